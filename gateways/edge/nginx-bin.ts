import { DEBIAN_TOOLS, ensureDebianTools } from '../../platform/debian.ts';
import type { Logger } from '../../platform/logger.ts';

/** The nginx to run: the one given, else Debian's (installed with apt-get when missing). */
export function nginxBinary(given: string | undefined, log: Logger): string {
  if (given) return given;
  const paths = ensureDebianTools([DEBIAN_TOOLS.nginx], {
    info: (msg) => log.info(msg),
    warn: (msg) => log.warn(msg),
  });
  return paths.nginx!;
}
