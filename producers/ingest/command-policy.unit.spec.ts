import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { routeCommand, type SessionStanding } from './command-policy.ts';

const publicPeer: SessionStanding = { mayPull: false, published: false };
const worker: SessionStanding = { mayPull: true, published: false };
const publishing: SessionStanding = { mayPull: false, published: true };

describe('RTMP command policy', () => {
  it('lets anyone through the publish path ffmpeg and OBS take, stop included', () => {
    assert.equal(routeCommand('connect', publicPeer, 'live'), 'pass');
    assert.equal(routeCommand('connect', publicPeer, 'live/'), 'pass');
    for (const c of ['releaseStream', 'FCPublish', 'createStream', '_checkbw']) {
      assert.equal(routeCommand(c, publicPeer), 'pass', c);
    }
    assert.equal(routeCommand('publish', publicPeer), 'publish');
    for (const c of ['FCUnpublish', 'deleteStream', 'closeStream'])
      assert.equal(routeCommand(c, publishing), 'unpublish');
  });

  it('refuses a connect to any application but live (the library would serve files under `file`)', () => {
    for (const app of ['file', '', 'live2', undefined, 7, { app: 'live' }]) {
      assert.equal(routeCommand('connect', publicPeer, app), 'refuse', JSON.stringify(app));
      assert.equal(routeCommand('connect', worker, app), 'refuse', JSON.stringify(app));
    }
  });

  it('refuses a public peer everything on the play path, and anything unknown', () => {
    for (const c of [
      'play',
      'play2',
      'seek',
      'pause',
      'pauseRaw',
      'receiveAudio',
      'receiveVideo',
      'FCSubscribe',
      'getStreamLength',
      'secretBackdoor',
      '',
    ]) {
      assert.equal(routeCommand(c, publicPeer), 'refuse', c);
      assert.equal(routeCommand(c, publishing), 'refuse', c);
    }
  });

  it('lets an allowed puller play (checked by name) and what ffmpeg sends around it', () => {
    assert.equal(routeCommand('play', worker), 'play');
    for (const c of ['getStreamLength', 'FCSubscribe', 'FCUnsubscribe', 'receiveAudio', 'receiveVideo']) {
      assert.equal(routeCommand(c, worker), 'pass', c);
    }
  });

  it('refuses seek and pause even to an allowed puller: both re-enter play past its check', () => {
    for (const c of ['seek', 'pause', 'pauseRaw', 'play2']) assert.equal(routeCommand(c, worker), 'refuse', c);
  });

  it('refuses a second publish on a connection that already publishes', () => {
    assert.equal(routeCommand('publish', publishing), 'refuse');
    assert.equal(routeCommand('publish', { mayPull: true, published: true }), 'refuse');
  });
});
