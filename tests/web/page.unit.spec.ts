import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Hls from 'hls.js';
import { ChatLog, chatErrorText, type ServerFrame } from '../../web/src/lib/chat-log.ts';
import {
  backoffMs,
  catchUpRate,
  followLive,
  formatCount,
  glassToGlassMs,
  hlsConfig,
  hlsSettings,
  latencyLabel,
  levelName,
  liveStatus,
  liveSyncFallback,
  uptime,
  type LatencyMode,
} from '../../web/src/lib/format.ts';
import { newPlaybackSession, withPlaybackSession } from '../../web/src/lib/playback-session.ts';
import { behindLiveLabel, dvrFragments, dvrHlsConfig, dvrLevel, dvrStartPosition } from '../../web/src/lib/dvr.ts';
import { ChatReplay, type ReplayStep } from '../../web/src/lib/chat-replay.ts';

/** The web page's pure parts (web/src/lib): what chat shows and how the player is tuned. */
const msg = (id: string, user = 'u1', content = `text ${id}`) => ({
  message_id: id,
  user: { user_id: user, username: user.toUpperCase(), badges: [] as string[] },
  content,
  color: null,
  timestamp: '2026-01-01T00:00:00.000Z',
});
const shown = (log: ChatLog) =>
  log.entries.map((e) => (e.kind === 'message' ? `${e.message_id}${e.deleted ? '(x)' : ''}` : `! ${e.text}`));

describe('chat log', () => {
  it('shows history then live messages once each, even when a reconnect overlaps what is shown', () => {
    const log = new ChatLog();
    log.apply({ type: 'history', messages: [msg('a'), msg('b')], complete: true });
    log.apply({ type: 'message', ...msg('c') });
    assert.equal(log.lastMessageId, 'c');
    // The reconnect asked for everything after c, but a gateway may repeat the boundary.
    const changed = log.apply({ type: 'history', messages: [msg('c'), msg('d')], complete: true });
    assert.equal(changed, true);
    assert.equal(log.apply({ type: 'message', ...msg('d') }), false);
    assert.deepEqual(shown(log), ['a', 'b', 'c', 'd']);
    assert.equal(log.lastMessageId, 'd');
  });

  it('says so when a reconnect missed more than the gateway could send', () => {
    const log = new ChatLog();
    log.apply({ type: 'history', messages: [msg('a')], complete: false });
    assert.match(shown(log)[1]!, /missed/);
  });

  it('applies moderation: deletions, bans (their messages go), timeouts and moderators are visible', () => {
    const log = new ChatLog();
    const frames: ServerFrame[] = [
      { type: 'history', messages: [msg('a', 'u1'), msg('b', 'u2'), msg('c', 'u1')], complete: true },
      { type: 'message_deleted', message_id: 'b' },
      { type: 'user_banned', user_id: 'u1' },
      { type: 'user_timed_out', user_id: 'u2', until: '2026-01-01T00:10:00.000Z' },
      { type: 'moderator_added', user_id: 'u3' },
    ];
    for (const f of frames) log.apply(f);
    assert.deepEqual(shown(log).slice(0, 4), ['a(x)', 'b(x)', 'c(x)', '! U1 was banned.']);
    assert.match(shown(log)[4]!, /^! U2 was timed out until /);
    assert.equal(log.isModerator('u3'), true);
    assert.equal(log.apply({ type: 'message_deleted', message_id: 'b' }), false, 'already deleted');
    log.apply({ type: 'moderator_removed', user_id: 'u3' });
    assert.equal(log.isModerator('u3'), false);
    const e = log.entries[0]!;
    assert.equal(e.kind === 'message' && e.content, '', 'a deleted message keeps no text');
  });

  it('keeps at most its capacity, dropping the oldest', () => {
    const log = new ChatLog(3);
    for (const id of ['a', 'b', 'c', 'd']) log.apply({ type: 'message', ...msg(id) });
    assert.deepEqual(shown(log), ['b', 'c', 'd']);
    // A dropped message is no longer known: a late deletion of it changes nothing.
    assert.equal(log.apply({ type: 'message_deleted', message_id: 'a' }), false);
  });

  it('turns refusals into advice', () => {
    assert.equal(
      chatErrorText({ code: 'rate_limited', message: 'rate limited', retry_after_ms: 4200 }),
      "You're sending messages quickly — wait 5 seconds and try again.",
    );
    assert.match(chatErrorText({ code: 'duplicate_message', message: 'dup' }), /something new/);
    assert.equal(chatErrorText({ code: 'something_new', message: 'as the server said' }), 'as the server said');
  });
});

describe('page formatting and player settings', () => {
  it('formats counts, latency and uptime', () => {
    assert.deepEqual([0, 999, 1000, 1234, 12_345, 2_500_000].map(formatCount), [
      '0',
      '999',
      '1K',
      '1.2K',
      '12K',
      '2.5M',
    ]);
    assert.equal(latencyLabel(2.345), '2.3 s behind live');
    assert.equal(latencyLabel(12.6), '13 s behind live');
    assert.equal(latencyLabel(null), '');
    assert.equal(uptime('2026-01-01T00:00:00Z', Date.parse('2026-01-01T01:02:03Z')), '1:02:03');
    assert.equal(uptime('2026-01-01T00:00:00Z', Date.parse('2026-01-01T00:04:05Z')), '4:05');
  });

  it('plays both live tiers in low-latency mode, the low tier chasing the edge harder; ultra-low plays as low', () => {
    const standard = hlsSettings('standard', true);
    const low = hlsSettings('low', true);
    assert.equal(standard.lowLatencyMode, true);
    assert.equal(low.lowLatencyMode, true);
    assert.deepEqual(hlsSettings('ultra-low', true), low);
    assert.equal(liveSyncFallback('ultra-low'), liveSyncFallback('low'));
    // hls.js's own catch-up (only with over 1 s buffered) is off; the page's chases harder on low.
    assert.equal(low.maxLiveSyncPlaybackRate, 1);
    assert.equal(standard.maxLiveSyncPlaybackRate, 1);
    assert.ok(catchUpRate('low') > catchUpRate('standard') && catchUpRate('standard') > 1);
    assert.equal(catchUpRate('ultra-low'), catchUpRate('low'));
    assert.ok(low.maxBufferLength < standard.maxBufferLength && low.backBufferLength < standard.backBufferLength);
    assert.ok(liveSyncFallback('low') < liveSyncFallback('standard'));
    assert.equal(hlsSettings('ultra-low', false).lowLatencyMode, false, 'a recording is not live');
  });

  it("never gives hls.js's constructor a live sync, which would override the playlist's PART-HOLD-BACK", () => {
    for (const mode of ['standard', 'low', 'ultra-low'] as LatencyMode[]) {
      const keys = Object.keys(hlsConfig(mode, true));
      for (const k of [
        'liveSyncDuration',
        'liveSyncDurationCount',
        'liveMaxLatencyDuration',
        'liveMaxLatencyDurationCount',
      ])
        assert.ok(!keys.includes(k), `${mode}: ${k}`);
    }
  });

  /** hls.js itself (it builds in Node), as the page sets it up, with `details` as its newest media playlist. */
  const player = (mode: LatencyMode, details: { partHoldBack: number; holdBack: number; targetduration: number }) => {
    const hls = new Hls(hlsConfig(mode, true));
    Object.defineProperty(hls, 'latestLevelDetails', { get: () => ({ live: true, ...details }) });
    followLive(hls, liveSyncFallback(mode), catchUpRate(mode));
    return hls;
  };

  /** Just what followLive reads and writes: a playing element `latency` s behind with `ahead` s buffered. */
  const playing = (latency: number, ahead: number, target = 0.6, paused = false) => {
    const media = {
      currentTime: 100,
      paused,
      buffered: { length: 1, start: () => 90, end: () => 100 + ahead },
      playbackRate: 1,
    };
    const hls = {
      config: { liveSyncDurationCount: 3 },
      targetLatency: target,
      latestLevelDetails: { targetduration: 1 },
      latency,
      media,
    };
    followLive(hls, 2, 1.25);
    return media.playbackRate;
  };

  it('catches up in proportion to the drift, only with enough buffered ahead, never past the seek-back bound', () => {
    assert.equal(playing(0.62, 0.5), 1, 'within 50 ms of the target: real time');
    assert.equal(playing(0.9, 0.5), 1.08, '0.3 s behind: 1.08x');
    assert.equal(playing(1.8, 1.5), 1.25, '1 s or more behind: the tier maximum');
    assert.equal(playing(0.9, 0.2), 1, 'too little buffered to speed up: a stall would cost more');
    assert.equal(playing(2.5, 2), 1, 'beyond the seek-back bound (2.2 s): hls.js seeks instead');
    assert.equal(playing(0.9, 0.5, 0.6, true), 1, 'paused: untouched');
  });

  it("targets the playlist's PART-HOLD-BACK over LL-HLS and seeks back past where catching up stops", () => {
    const standard = player('standard', { partHoldBack: 1.002, holdBack: 6, targetduration: 2 });
    assert.equal(standard.targetLatency, 1.002);
    assert.equal(standard.maxLatency, 2 * 1.002 + 2);
    const low = player('low', { partHoldBack: 0.6, holdBack: 3, targetduration: 1 });
    assert.equal(low.targetLatency, 0.6);
    assert.equal(low.maxLatency, 2 * 0.6 + 1);
    standard.destroy();
    low.destroy();
  });

  it('targets a few target durations on plain HLS (no hold-back in the playlist)', () => {
    const standard = player('standard', { partHoldBack: 0, holdBack: 0, targetduration: 2 });
    assert.equal(standard.targetLatency, 6);
    assert.equal(standard.maxLatency, 14);
    const low = player('ultra-low', { partHoldBack: 0, holdBack: 0, targetduration: 1 });
    assert.equal(low.targetLatency, 2);
    assert.equal(low.maxLatency, 5);
    standard.destroy();
    low.destroy();
  });

  it('shows the latency, the target and catching up', () => {
    assert.deepEqual(liveStatus(1.234, 1.002, 1.1), {
      latency: '1.2 s behind live',
      target: 'target 1.0 s',
      catchingUp: true,
      farBehind: false,
    });
    assert.deepEqual(liveStatus(null, 1, 1), { latency: '', target: '', catchingUp: false, farBehind: false });
    assert.equal(liveStatus(0.9, 0.6, 1).catchingUp, false);
    assert.equal(liveStatus(6, 1, 1).farBehind, true);
    assert.equal(liveStatus(6, null, 1).target, '');
  });

  it('measures glass to glass from the capture time of the frame on screen', () => {
    assert.equal(glassToGlassMs(1_000_000, 1_001_234.6), 1235);
    assert.equal(glassToGlassMs(null, 1_001_234), null);
    assert.equal(glassToGlassMs(Number.NaN, 1_001_234), null);
    assert.equal(glassToGlassMs(1_000_500, 1_000_000), -500, 'left for the gateway to drop, not made plausible');
  });

  it("gives the player (and the glass-to-glass benchmark) the mode's settings, ABR from the start, capped to the element", () => {
    const { startLevel, capLevelToPlayerSize, ...settings } = hlsConfig('low', true);
    assert.deepEqual(settings, hlsSettings('low', true));
    assert.equal(startLevel, -1);
    assert.equal(capLevelToPlayerSize, true);
  });

  it('names renditions as heartbeats accept them', () => {
    assert.equal(levelName({ name: '720p60', height: 720 }, 0), '720p60');
    assert.equal(levelName({ name: 'has spaces', height: 480 }, 1), '480p');
    assert.equal(levelName({}, 2), 'level2');
  });

  it('backs off reconnects with jitter up to 15 s', () => {
    assert.equal(
      backoffMs(0, () => 0),
      250,
    );
    assert.equal(
      backoffMs(0, () => 1),
      500,
    );
    assert.equal(
      backoffMs(10, () => 1),
      15_000,
    );
  });
});

describe('player session on media requests (issue #28)', () => {
  it('adds vsid to any URL and leaves the rest of it as it was', () => {
    const s = 'p_00ff00ff00ff00ff00ff00ff';
    assert.equal(
      withPlaybackSession('https://cdn/hls/s1/720p/000042.m4s', s),
      `https://cdn/hls/s1/720p/000042.m4s?vsid=${s}`,
    );
    assert.equal(
      withPlaybackSession('https://cdn/hls/s1/720p.m3u8?_HLS_msn=42&_HLS_part=3', s),
      `https://cdn/hls/s1/720p.m3u8?_HLS_msn=42&_HLS_part=3&vsid=${s}`,
    );
    assert.equal(withPlaybackSession('/hls/s1/master.m3u8?', s), `/hls/s1/master.m3u8?vsid=${s}`);
    assert.equal(withPlaybackSession('/hls/s1/a.m4s#t=1', s), `/hls/s1/a.m4s?vsid=${s}#t=1`);
  });

  it('makes ids the viewer gateway takes as a session', () => {
    const id = newPlaybackSession(new Uint8Array([0, 1, 254, 255, 16, 17, 18, 19, 20, 21, 22, 23]));
    assert.equal(id, 'p_0001feff1011121314151617');
    assert.match(newPlaybackSession(), /^[A-Za-z0-9_-]{8,64}$/);
    assert.notEqual(newPlaybackSession(), newPlaybackSession());
  });
});

describe('rewinding a live stream (DVR)', () => {
  const T = Date.UTC(2026, 11, 7, 15, 0, 0);
  const frags = [0, 1, 2, 3].map((i) => ({ start: 100 + 2 * i, duration: 2, programDateTime: T + 2000 * i }));

  it('starts where the frame captured at the asked time is, within the playlist', () => {
    assert.equal(dvrStartPosition(frags, T + 3500), 103.5);
    assert.equal(dvrStartPosition(frags, T - 60_000), 100, 'not that far back: the oldest segment');
    assert.equal(dvrStartPosition(frags, T + 60_000), 108, 'ahead of the newest: its end');
    assert.equal(dvrStartPosition([{ start: 7, duration: 2, programDateTime: null }], T), 7, 'undated: the start');
  });

  it('plays the DVR playlist as a recording that hls.js never pulls back to live', () => {
    const config = dvrHlsConfig('low');
    assert.equal(config.lowLatencyMode, false);
    assert.equal(config.autoStartLoad, false, 'it starts where the rewind lands');
    assert.equal(config.liveMaxLatencyDurationCount, Infinity);
    // hls.js takes it as it is.
    new Hls(config).destroy();
  });

  it('reads a DVR playlist as hls.js places it: from 0, dated by the tag before each segment', () => {
    const text = [
      '#EXTM3U',
      '#EXT-X-TARGETDURATION:2',
      '#EXT-X-MAP:URI="480p/init-000000.mp4"',
      `#EXT-X-PROGRAM-DATE-TIME:${new Date(T).toISOString()}`,
      '#EXTINF:2.000,',
      '480p/000000.m4s',
      '#EXT-X-DISCONTINUITY',
      `#EXT-X-PROGRAM-DATE-TIME:${new Date(T + 60_000).toISOString()}`,
      '#EXTINF:1.500,',
      '480p/000035.m4s',
      '#EXTINF:2.000,',
      '480p/000036.m4s',
    ].join('\n');
    assert.deepEqual(dvrFragments(text), [
      { start: 0, duration: 2, programDateTime: T },
      { start: 2, duration: 1.5, programDateTime: T + 60_000 },
      { start: 3.5, duration: 2, programDateTime: null },
    ]);
    assert.equal(dvrStartPosition(dvrFragments(text), T + 61_000), 3, 'after a hole, by the date after it');
  });

  it('stays on the rendition it was playing live, else the highest', () => {
    assert.equal(dvrLevel(['480p', '360p', '160p'], '360p'), 1);
    assert.equal(dvrLevel(['480p', '160p'], '360p'), 0, 'a rung that is gone');
    assert.equal(dvrLevel(['480p', '360p'], null), 0);
  });

  it('says how far behind live a rewound player is', () => {
    assert.equal(behindLiveLabel(65_400), '1:05 behind live');
    assert.equal(behindLiveLabel(2 * 3600_000 + 5_000), '2:00:05 behind live');
    assert.equal(behindLiveLabel(-10), '0:00 behind live');
  });
});

describe('chat replay with a recording', () => {
  const T = Date.UTC(2026, 11, 7, 15, 0, 0);
  const msg = (i: number, atMs: number) => ({
    message_id: `m${i}`,
    user: { user_id: 'u', username: 'u', badges: [] },
    content: `at ${atMs}`,
    color: null,
    timestamp: new Date(T + atMs).toISOString(),
  });
  const shown = (step: ReplayStep) => (step.kind === 'show' ? step.messages.map((m) => m.message_id) : step.kind);

  it('shows each message once the video reaches the moment it was sent, paging ahead', () => {
    const replay = new ChatReplay();
    assert.deepEqual(replay.tick(T), { kind: 'seek', at: T });
    assert.deepEqual(shown(replay.tick(T + 100)), [], 'nothing while the seek is answered');
    replay.placed([msg(0, -500)], { messages: [msg(1, 400), msg(2, 1200)], next: 'm2' });
    assert.deepEqual(replay.tick(T + 300), { kind: 'more', after: 'm2' }, 'few left: the next page');
    replay.extended({ messages: [msg(2, 1200), msg(3, 2500)], next: null });
    assert.deepEqual(shown(replay.tick(T + 500)), ['m0', 'm1']);
    assert.deepEqual(shown(replay.tick(T + 1300)), ['m0', 'm1', 'm2'], 'the page repeat is dropped');
    assert.deepEqual(shown(replay.tick(T + 3000)), ['m0', 'm1', 'm2', 'm3']);
  });

  it('a seek either way starts afresh from the new moment', () => {
    const replay = new ChatReplay();
    replay.tick(T);
    replay.placed([], { messages: [msg(1, 1000)], next: null });
    assert.deepEqual(shown(replay.tick(T + 1500)), ['m1']);
    assert.deepEqual(replay.tick(T - 60_000), { kind: 'seek', at: T - 60_000 });
    replay.placed([], { messages: [msg(0, -59_000), msg(1, 1000)], next: null });
    assert.deepEqual(shown(replay.tick(T - 59_500)), [], 'not before its time');
  });

  it('a failed seek is asked again at the next tick', () => {
    const replay = new ChatReplay();
    replay.tick(T);
    replay.failed();
    assert.deepEqual(replay.tick(T + 200), { kind: 'seek', at: T + 200 });
  });

  it('keeps the newest messages only', () => {
    const replay = new ChatReplay(2);
    replay.tick(T);
    replay.placed([msg(0, -3), msg(1, -2), msg(2, -1)], { messages: [], next: null });
    assert.deepEqual(shown(replay.tick(T + 10)), ['m1', 'm2']);
  });
});
