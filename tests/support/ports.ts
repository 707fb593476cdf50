import { createServer } from 'node:net';

/**
 * A TCP port free on 127.0.0.1 right now: the kernel picks it for a listener that closes at once.
 * For a server that cannot listen on port 0 itself (a child process, a container, nginx).
 */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen(0, '127.0.0.1', resolve);
  });
  const { port } = s.address() as { port: number };
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
