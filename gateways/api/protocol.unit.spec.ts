import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../platform/validation.ts';
import { MediaCatalog } from '../../domain/media/catalog.ts';
import type { StreamRecord } from '../../domain/stream/evolve.ts';
import { parseCategoriesQuery, parseSearchQuery, playbackResponse, type Links } from './protocol.ts';

const parse = (qs: string) => parseSearchQuery(new URLSearchParams(qs));

describe('search query parsing', () => {
  it('defaults: live and ready streams, 20 per page, no text', () => {
    assert.deepEqual(parse('').search, { statuses: ['live', 'ready'], limit: 20 });
  });

  it('normalises text, lower-cases the category filter, and ignores an empty q', () => {
    assert.deepEqual(parse('q=%20dark%20souls%20&category=Gaming&min_viewers=100&status=live&limit=5').search, {
      text: 'dark souls',
      category: 'gaming',
      minViewers: 100,
      statuses: ['live'],
      limit: 5,
    });
    assert.equal(parse('q=').search.text, undefined);
  });

  it('the same filters in another order make cursors that fit each other', () => {
    const page = {
      streams: [],
      total: 9,
      next: { after: [1, 2, 3, 's'] as [number, number, number, string], pit: 'p1' },
    };
    const cursor = parse('status=ready,live&q=x').nextCursor(page)!;
    const { search } = parse(`q=x&status=live,ready&cursor=${cursor}`);
    assert.deepEqual([search.after, search.pit], [[1, 2, 3, 's'], 'p1']);
  });

  it('reports each bad or repeated parameter', () => {
    const fields = (qs: string) => {
      try {
        parse(qs);
      } catch (e) {
        if (e instanceof ValidationError) return Object.keys(e.fields).sort();
        throw e;
      }
      return [];
    };
    assert.deepEqual(fields('limit=0&min_viewers=1.5&status=paused&extra=1'), [
      'extra',
      'limit',
      'min_viewers',
      'status',
    ]);
    assert.deepEqual(fields('category=a&category=b'), ['category']);
    assert.deepEqual(fields(`q=${'x'.repeat(101)}`), ['q']);
    assert.throws(() => parseCategoriesQuery(new URLSearchParams('limit=101')), ValidationError);
  });
});

describe('playback answer', () => {
  const stream: StreamRecord = {
    streamId: 's1',
    streamerId: 'u1',
    streamerName: 'ana',
    title: 'a radio show',
    category: 'music',
    tags: [],
    latencyMode: 'STANDARD',
    recordingEnabled: true,
    chatEnabled: false,
    streamKeyHash: 'hash',
    status: 'live',
    createdAt: 0,
    updatedAt: 0,
    startedAt: 0,
    endedAt: null,
  };
  const links: Links = {
    publicBaseUrl: 'https://live.example.com',
    cdnBaseUrl: 'https://cdn.example.com',
    wsBaseUrl: 'wss://live.example.com',
    ingest: { rtmp: 'rtmp://ingest.example.com/live', rtmps: null, webrtc: null },
    whepBaseUrl: null,
  };

  it('carries media_error: null, or the refusal of the source with its code and reason', () => {
    const catalog = new MediaCatalog();
    assert.equal(playbackResponse(stream, 0, links, undefined, catalog.get('s1')).media_error, null);
    const reason =
      'the broadcast has no video: the source carries only audio (aac); send a video track (H.264) with it';
    catalog.applyMedia(
      {
        eventId: 'e',
        occurredAt: 0,
        streamId: 's1',
        workerId: 'w',
        payload: { type: 'TranscodeRefused', code: 'NO_VIDEO', reason },
      },
      0,
    );
    const answer = playbackResponse(stream, 0, links, undefined, catalog.get('s1'));
    assert.deepEqual(answer.media_error, { code: 'NO_VIDEO', reason });
    assert.deepEqual(answer.qualities, []);
  });

  it('lists the WHEP URL for a live ultra-low stream where the WebRTC gateway runs, and only then', () => {
    const whep = { ...links, whepBaseUrl: 'https://webrtc.example.com/whep/' };
    const ultra: StreamRecord = { ...stream, latencyMode: 'ULTRA_LOW' };
    assert.equal(playbackResponse(ultra, 0, whep).playback_urls.webrtc, 'https://webrtc.example.com/whep/s1');
    assert.equal(playbackResponse(ultra, 0, links).playback_urls.webrtc, null, 'no gateway configured');
    assert.equal(playbackResponse(stream, 0, whep).playback_urls.webrtc, null, 'a standard stream plays over HLS');
    assert.equal(playbackResponse({ ...ultra, status: 'ended' }, 0, whep).playback_urls.webrtc, null, 'not live');
    assert.equal(
      playbackResponse(ultra, 0, whep).playback_urls.dvr,
      `${links.cdnBaseUrl}/hls/s1/dvr.m3u8`,
      'rewind while live',
    );
    assert.equal(playbackResponse({ ...ultra, status: 'ended' }, 0, whep).playback_urls.dvr, null);
  });
});
