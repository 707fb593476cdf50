import type { StoreEntry } from '../store.ts';
import { chatStore } from './chat.ts';
import { discoveryStore } from './discovery.ts';
import { followsStore } from './follows.ts';
import { notificationsStore } from './notifications.ts';
import { playlistsStore } from './playlists.ts';
import { viewerPeaksStore } from './viewer-peaks.ts';

/**
 * Every derived store `replay` can rebuild, by the name an operator types. A new store: a module
 * in this folder implementing StoreEntry, and one line here.
 */
export const REPLAY_STORES: Record<string, StoreEntry> = {
  discovery: discoveryStore,
  chat: chatStore,
  follows: followsStore,
  notifications: notificationsStore,
  'viewer-peaks': viewerPeaksStore,
  playlists: playlistsStore,
};
