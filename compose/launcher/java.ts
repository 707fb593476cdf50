import { existsSync } from 'node:fs';

/**
 * Picks a JDK by major version. The machine ships Debian's OpenJDK 17 as default and a newer
 * Temurin beside it; JAVA17_HOME / JAVA21PLUS_HOME override the guess.
 */
const candidates: Record<17 | 21, string[]> = {
  17: [process.env.JAVA17_HOME ?? '', '/usr/lib/jvm/java-17-openjdk-amd64', '/usr/lib/jvm/temurin-17-jdk-amd64'],
  21: [
    process.env.JAVA21PLUS_HOME ?? '',
    '/usr/lib/jvm/temurin-25-jdk-amd64',
    '/usr/lib/jvm/temurin-21-jdk-amd64',
    '/usr/lib/jvm/java-21-openjdk-amd64',
  ],
};

export function javaHome(minMajor: 17 | 21): string {
  for (const dir of candidates[minMajor]) {
    if (dir && existsSync(`${dir}/bin/java`)) return dir;
  }
  throw new Error(
    `No JDK ${minMajor}+ found (looked in ${candidates[minMajor].filter(Boolean).join(', ')}). ` +
      `Install one (apt-get install openjdk-17-jdk-headless) or set ${minMajor === 17 ? 'JAVA17_HOME' : 'JAVA21PLUS_HOME'}.`,
  );
}

export function javaBin(minMajor: 17 | 21): string {
  return `${javaHome(minMajor)}/bin/java`;
}
