import type { StoreEntry } from '../store.ts';
import { chatStore } from './chat.ts';
import { discoveryStore } from './discovery.ts';

/**
 * Every derived store `replay` can rebuild, by the name an operator types. A new store: a module
 * in this folder implementing StoreEntry, and one line here.
 */
export const REPLAY_STORES: Record<string, StoreEntry> = {
  discovery: discoveryStore,
  chat: chatStore,
};
