import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { waitFor } from '../support/wait.ts';
import {
  api,
  assertPlatformUp,
  BASE,
  goLive,
  livePlatformUp,
  People,
  type CreatedStream,
  type Platform,
  SHOTS,
  signIn,
  WAIT,
  watchUrl,
  word,
} from './harness.ts';

/**
 * A streamer creates a stream on the web page; viewers find it with a typo and chat. None of
 * this needs the stream to be live: chat opens with the stream.
 */
describe('web page: go live, search, chat', () => {
  let platform: Platform;
  let people: People;
  let streamer: Page;
  let viewer: Page;
  let stream: CreatedStream | undefined;
  const titleWord = word();

  const created = (): CreatedStream => {
    assert.ok(stream, 'the go-live test created no stream');
    return stream;
  };

  before(
    async () => {
      platform = await livePlatformUp();
      people = await People.start();
      [streamer, viewer] = [await people.page(), await people.page()];
    },
    { timeout: 240_000 },
  );
  after(async () => people?.close());

  it('a streamer signs in, creates a stream and sees its key and RTMP URL once', async () => {
    assertPlatformUp(platform);
    await signIn(streamer, `s_${word()}`);
    stream = await goLive(streamer, `Speedrunning ${titleWord} any%`);
    assert.match(stream.rtmp, /^rtmp:\/\//);
    assert.ok(stream.key.length >= 16);
    await streamer.screenshot({ path: join(SHOTS, 'go-live.png') });

    // Shown once: after a reload the page can still end the stream, but has no key to show.
    await streamer.reload();
    await streamer.getByTestId('end-stream').waitFor(WAIT);
    assert.equal(await streamer.getByTestId('stream-key').count(), 0);
  });

  it('search finds the stream despite a typo', async () => {
    const { id } = created();
    // Indexing is asynchronous: wait until the index has the stream, then search as a person would.
    await waitFor(
      'the stream in the discovery index',
      async () =>
        (
          await api<{ streams: { stream_id: string }[] }>(`/api/v1/streams/search?q=${titleWord}&status=ready,live`)
        ).streams.some((s) => s.stream_id === id),
      60_000,
    );
    const typo = `${titleWord.slice(0, 3)}${titleWord[4]}${titleWord[3]}${titleWord.slice(5)}`;
    assert.notEqual(typo, titleWord);
    await viewer.goto(BASE);
    await viewer.getByRole('searchbox', { name: 'Search' }).fill(typo);
    await viewer.locator(`[data-testid="stream-card"][data-stream-id="${id}"]`).waitFor(WAIT);
    assert.match(viewer.url(), new RegExp(`\\?q=${typo}$`));
  });

  it('a chat message sent in one browser appears in another, and in the history of a third', async () => {
    const { id } = created();
    await signIn(viewer, `v_${word()}`);
    await viewer.goto(watchUrl(id));
    await streamer.goto(watchUrl(id));
    for (const p of [viewer, streamer]) await p.locator('[data-testid="chat"][data-state="open"]').waitFor(WAIT);

    const text = `hello from the viewer ${word()}`;
    await viewer.getByTestId('chat-input').fill(text);
    await viewer.getByTestId('chat-input').press('Enter');
    await streamer.getByTestId('chat-list').getByText(text).waitFor(WAIT);
    await viewer.getByTestId('chat-list').getByText(text).waitFor(WAIT);

    const late = await people.page();
    await late.goto(watchUrl(id));
    await late.getByTestId('chat-list').getByText(text).waitFor(WAIT);
    await viewer.screenshot({ path: join(SHOTS, 'watch-chat.png') });
  });

  it("the streamer's moderation shows for viewers; a rate-limited sender is told kindly", async () => {
    created();
    const text = `please delete me ${word()}`;
    await viewer.getByTestId('chat-input').fill(text);
    await viewer.getByTestId('chat-input').press('Enter');
    const line = streamer.locator('li.msg', { hasText: text });
    await line.waitFor(WAIT);
    const messageId = await line.getAttribute('data-message-id');
    await line.hover();
    await line.getByTitle('Delete message').click();
    const seen = viewer.locator(`li.msg.deleted[data-message-id="${messageId}"]`);
    await seen.waitFor(WAIT);
    assert.match((await seen.textContent()) ?? '', /message deleted/);

    // More than the 20 messages in 30 s a viewer may send: the refusal reads as advice, not an error code.
    for (let i = 0; i < 24; i++) {
      await viewer.getByTestId('chat-input').fill(`message ${i} ${word()}`);
      await viewer.getByTestId('chat-input').press('Enter');
    }
    await viewer
      .getByTestId('chat-hint')
      .filter({ hasText: /sending messages quickly/ })
      .waitFor(WAIT);
  });

  it('the streamer ends the stream from the go-live page', async () => {
    const { id } = created();
    await streamer.goto(`${BASE}/go-live`);
    await streamer.getByTestId('end-stream').click();
    await streamer.getByTestId('stream-state').filter({ hasText: 'The stream has ended.' }).waitFor(WAIT);
    assert.equal((await api<{ status: string }>(`/api/v1/streams/${encodeURIComponent(id)}/playback`)).status, 'ended');
  });
});
