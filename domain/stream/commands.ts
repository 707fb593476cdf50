import type { StartInput } from './validation.ts';

/**
 * What a streamer asks of the stream API, already validated. Everything `decide` would otherwise
 * have to invent (ids, the clock, the stream key's hash) comes in with the command, so `decide`
 * stays pure and its tests exact.
 */
export interface CommandContext {
  /** The authenticated user issuing the command. */
  userId: string;
  username: string;
  /** An operator: may end a stream that is not theirs (StreamEnded reason ADMIN). */
  admin?: boolean;
  /** Epoch ms; becomes the events' occurredAt. */
  now: number;
  /** One fresh UUID per event the command may emit. */
  eventIds: readonly string[];
}

/** A validated start request, plus what the API generated for it. */
export interface StartStream extends StartInput {
  type: 'StartStream';
  streamId: string;
  streamKeyHash: string;
}

/** Absent fields stay as they are. */
export interface UpdateStream {
  type: 'UpdateStream';
  streamId: string;
  title?: string;
  category?: string;
  tags?: string[];
}

export interface EndStream {
  type: 'EndStream';
  streamId: string;
}

/**
 * The ingest watchdog's: the ingest node the stream is live on lost its lease, and the reconnect
 * grace passed without the encoder reconnecting elsewhere (domain/ingest/leases.ts). Not a
 * person's command: no ownership check, and a stream no longer live is left as it is.
 */
export interface EndStreamOnNodeLoss {
  type: 'EndStreamOnNodeLoss';
  streamId: string;
  ingestNode: string;
}

export type StreamCommand = StartStream | UpdateStream | EndStream | EndStreamOnNodeLoss;
