import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { publishTestPattern, type Publisher } from '../support/media.ts';
import { waitFor } from '../support/wait.ts';
import {
  api,
  assertPlatformUp,
  BASE,
  CHAT_BASE,
  goLive,
  livePlatformUp,
  People,
  type CreatedStream,
  type Platform,
  SHOTS,
  signIn,
  videoTime,
  viewerCount,
  WAIT,
  watchUrl,
  word,
} from './harness.ts';

/**
 * A stream that goes live: a follower's bell lights up when the streamer's encoder (ffmpeg, as
 * OBS would) connects with the key from the go-live page; the viewer count follows the viewers;
 * once ended, the stream's page plays the recording.
 */
describe('web page: follow, go live, viewers, recording', () => {
  let platform: Platform;
  let people: People;
  let streamer: Page;
  let follower: Page;
  let viewer: Page;
  let stream: CreatedStream | undefined;
  let publisher: Publisher | undefined;
  const names = { streamer: `s_${word()}`, follower: `f_${word()}` };
  const stopPublisher = () => publisher?.proc.kill('SIGINT');

  const created = (): CreatedStream => {
    assert.ok(stream, 'no stream was created');
    return stream;
  };
  /** The streamer's encoder connects, as OBS would, with the key from the go-live page. */
  const encoderOn = (): void => {
    const { key, rtmp } = created();
    publisher ??= publishTestPattern(`${rtmp}/${key}`, { size: '320x240', fps: 15 });
  };
  /** Each test can run after a failure of the one before: it brings the stream live itself. */
  const live = async (): Promise<string> => {
    const { id } = created();
    encoderOn();
    await waitFor(
      'the stream to go live',
      async () =>
        (await api<{ status: string }>(`/api/v1/streams/${encodeURIComponent(id)}/playback`)).status === 'live',
      60_000,
    );
    return id;
  };

  before(
    async () => {
      // Never leave an encoder running, even when the runner ends this file early.
      process.once('exit', stopPublisher);
      platform = await livePlatformUp();
      people = await People.start();
      [streamer, follower, viewer] = [await people.page(), await people.page(), await people.page()];
    },
    { timeout: 240_000 },
  );
  after(async () => {
    stopPublisher();
    await people?.close();
  });

  it('a follower is notified when the streamer goes live', async () => {
    assertPlatformUp(platform);
    await signIn(streamer, names.streamer);
    stream = await goLive(streamer, `Evening run ${word()}`);
    const { id } = stream;

    await signIn(follower, names.follower);
    await follower.goto(watchUrl(id));
    await follower
      .getByTestId('follow')
      .filter({ hasText: /^Follow$/ })
      .click();
    await follower.getByTestId('follow').filter({ hasText: 'Following' }).waitFor(WAIT);
    // The follow is an event: wait until the follower graph has it, as it would have long before a real stream.
    await waitFor('the follow in the follower graph', async () =>
      (await api<{ followers: { user_id: string }[] }>(`/api/v1/users/dev_${names.streamer}/followers`)).followers.some(
        (f) => f.user_id === `dev_${names.follower}`,
      ),
    );
    await follower.goto(BASE);
    await follower.locator('#bell[data-push="open"]').waitFor(WAIT);
    assert.equal(await follower.locator('#bell-badge').isVisible(), false, 'the bell is quiet before');

    encoderOn();
    await follower
      .locator('#bell-badge')
      .filter({ hasText: /^[1-9]/ })
      .waitFor({ timeout: 120_000 });
    await follower.screenshot({ path: join(SHOTS, 'notification.png') });
    await follower.locator('#bell-button').click();
    const note = follower.getByTestId('notification').filter({ hasText: names.streamer });
    await note.click();
    await follower.waitForURL(watchUrl(id));
  });

  it('the viewer count rises with a second viewer', async () => {
    const id = await live();
    // The notified follower is watching (or starts to, if the test before failed); a second viewer joins.
    if (follower.url() !== watchUrl(id)) await follower.goto(watchUrl(id));
    await follower.getByTestId('live-badge').waitFor(WAIT);
    await viewerCount(follower, 1);
    await viewer.goto(watchUrl(id));
    await viewer.getByTestId('live-badge').waitFor(WAIT);
    await viewerCount(follower, 2);
    await viewerCount(viewer, 2);
    const start = await videoTime(viewer, 0);
    await videoTime(viewer, start + 2);
    // A live stream shows how far behind live it plays (hls.js's estimate, each second) and the
    // target it holds.
    await viewer
      .getByTestId('latency')
      .filter({ hasText: /^\d+(\.\d)? s behind live$/ })
      .waitFor(WAIT);
    await viewer
      .getByTestId('latency-target')
      // The standard tier's PART-HOLD-BACK, 1.0 s (3 parts of 0.334 s), which hls.js takes only
      // from an LL-HLS playlist (plain HLS: 6 s), plus 1 s per stall at start on a busy machine
      // (liveSyncOnStallIncrease; hls.js adds at most one target duration).
      .filter({ hasText: /^target [1-3]\.0 s$/ })
      .waitFor(WAIT);

    // Meanwhile the streamer's go-live page charts their stream's health, measured by ingest and
    // read back from Prometheus: the encoder's 15 fps with a keyframe a second, and the viewers.
    await streamer
      .getByTestId('health-summary')
      .filter({ hasText: /^Now: \d+ kb\/s, 1[0-9](\.\d)? fps, a keyframe every 1\.0 s, 2 viewers\.$/ })
      .waitFor({ timeout: 90_000 });
    await streamer.locator('[data-panel="bitrate"] canvas').first().waitFor(WAIT);
    await streamer
      .getByTestId('ladder')
      .filter({ hasText: /^Ladder: \w+ \(\d+x\d+\)/ })
      .waitFor(WAIT);
    await streamer.screenshot({ path: join(SHOTS, 'go-live-health.png'), fullPage: true });
  });

  it('after the stream ends, its page plays the recording, with its chat replayed in step', async () => {
    const id = await live();
    // Some seconds of broadcast to record, a chat message in the middle of it, and more after.
    await viewer.goto(watchUrl(id));
    await videoTime(viewer, 4);
    await follower.goto(watchUrl(id));
    await follower.locator('[data-testid="chat"][data-state="open"]').waitFor(WAIT);
    const text = `replay me ${word()}`;
    await follower.getByTestId('chat-input').fill(text);
    await follower.getByTestId('chat-input').press('Enter');
    const messageId = await follower
      .getByTestId('chat-list')
      .locator('li', { hasText: text })
      .getAttribute('data-message-id', WAIT);
    const playing = await videoTime(viewer, 0);
    await videoTime(viewer, playing + 4);
    await streamer.goto(`${BASE}/go-live`);
    await streamer.getByTestId('end-stream').click();
    await streamer.getByTestId('stream-state').filter({ hasText: 'The stream has ended.' }).waitFor(WAIT);
    stopPublisher();
    await viewer.goto(watchUrl(id));
    await viewer.locator('.pill', { hasText: 'VOD' }).waitFor(WAIT);
    await videoTime(viewer, 1);

    // The message shows when the recording reaches the moment it was sent, not before, also after a seek.
    const [sent] = await waitFor('the message in the archive', async () => {
      const res = await fetch(`${CHAT_BASE}/api/v1/streams/${encodeURIComponent(id)}/chat?limit=20`);
      const page = (await res.json()) as { messages: { message_id: string; timestamp: string }[] };
      const found = page.messages.filter((m) => m.message_id === messageId).map((m) => Date.parse(m.timestamp));
      return found.length ? found : undefined;
    });
    const shownAt = async (): Promise<number> => {
      const at = await viewer.waitForFunction(
        (mid) => {
          const list = document.querySelector<HTMLElement>('[data-testid="chat-list"]');
          return list?.querySelector(`[data-message-id="${mid}"]`) ? Number(list.dataset.replayAt) : false;
        },
        messageId,
        { ...WAIT, polling: 'raf' },
      );
      return (await at.jsonValue()) as number;
    };
    for (const pass of ['first play', 'after seeking back to the start']) {
      const at = await shownAt();
      assert.ok(at >= sent! && at - sent! <= 1000, `${pass}: shown at ${at - sent!} ms of the video after it was sent`);
      if (pass === 'first play') await viewer.screenshot({ path: join(SHOTS, 'vod-chat-replay.png') });
      await viewer.evaluate(() => {
        document.querySelector<HTMLVideoElement>('[data-testid="video"]')!.currentTime = 0;
      });
      await viewer.waitForFunction(
        (mid) => !document.querySelector(`[data-testid="chat-list"] [data-message-id="${mid}"]`),
        messageId,
        WAIT,
      );
    }
  });

  it('a low-latency stream plays in Chromium through the edge, at the low tier’s LL-HLS target', async () => {
    // The streamer, back from ending the first one, starts a second broadcast in low latency.
    await streamer.goto(BASE);
    const low = await goLive(streamer, `Auction ${word()}`, 'low');
    const encoder = publishTestPattern(`${low.rtmp}/${low.key}`, { size: '320x240', fps: 15 });
    try {
      await waitFor(
        'the low-latency stream to go live',
        async () =>
          (await api<{ status: string }>(`/api/v1/streams/${encodeURIComponent(low.id)}/playback`)).status === 'live',
        60_000,
      );
      await viewer.goto(watchUrl(low.id));
      const start = await videoTime(viewer, 0);
      await videoTime(viewer, start + 2);
      // PART-HOLD-BACK of 1 s segments of 200 ms parts, 0.6 s: hls.js plays the parts, three behind
      // the newest (plain HLS: 2 s), plus 0.25 s per stall at start, at most one target duration.
      await viewer
        .getByTestId('latency-target')
        .filter({ hasText: /^target (0\.[6-9]|1\.[0-6]) s$/ })
        .waitFor(WAIT);
    } finally {
      encoder.proc.kill('SIGINT');
    }
  });
});
