import { resolve } from 'node:path';

/**
 * The repository root, computed in one place: every default path under it (`.data/`, `dist/`,
 * `analytics/`) is built from here, so moving a file never changes where its data lives.
 */
export const REPO_ROOT = resolve(import.meta.dirname, '..');

/** A path under the git-ignored `.data/` folder, where the platform keeps its local state. */
export const dataPath = (...parts: string[]): string => resolve(REPO_ROOT, '.data', ...parts);
