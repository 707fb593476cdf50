import type { Level } from 'hls.js';
import type HlsType from 'hls.js';
import type { Playback } from './api.ts';
import { h } from './dom.ts';
import { behindLiveLabel, dvrFragments, dvrHlsConfig, dvrLevel, dvrStartPosition, REWIND_STEP_S } from './lib/dvr.ts';
import { catchUpRate, followLive, hlsConfig, levelName, liveStatus, liveSyncFallback } from './lib/format.ts';
import { withPlaybackSession } from './lib/playback-session.ts';
import { fallbackMessage, linkState, playbackPath, WEBRTC_QUALITY, type WhepFailure } from './lib/webrtc.ts';
import { play, WebRtcRefused, type Session } from './webrtc.ts';

/**
 * A live ultra-low stream the API offers over WebRTC plays over WHEP (the browser's own
 * RTCPeerConnection into the <video>); when that is refused, does not connect or shows no frame
 * within WHEP_FIRST_FRAME_MS, or its connection fails later, the page says why and plays LL-HLS.
 *
 * The HLS player: hls.js over Media Source Extensions (native HLS where that is all there is),
 * tuned by the stream's latency mode. The quality menu lists the renditions of the master
 * playlist, the real ladder, with "Auto" (hls.js's bandwidth-based ABR) first. A live stream
 * shows how far behind the live edge playback is (hls.js's estimate, once a second) beside the
 * target it holds (the playlist's PART-HOLD-BACK over LL-HLS), "catching up" while hls.js plays
 * faster than real time to get back to it, and a "go to live" control when far behind.
 *
 * Rewind (DVR): the rewind button moves the player onto the packager's DVR playlists, 30 s
 * further back each press, up to their window (two hours by default); "Go to live" moves it back
 * onto the live ones. A rewound player reports no glass to glass: it is behind by choice.
 */
export interface Player {
  element: HTMLElement;
  video: HTMLVideoElement;
  /** The rendition playing now, for viewer heartbeats (null before the first one loads). */
  quality(): string | null;
  /** Milliseconds spent stalled since the previous call. */
  takeBufferingMs(): number;
  /**
   * The capture time (program date time, ms since the epoch) of the frame on screen, or null when
   * there is none to tell (WebRTC, paused, a recording, before the first frame).
   */
  playingCapturedAt(): number | null;
  /** The program date time of the frame on screen, live or recorded (null where unknown: WebRTC, no frame yet). */
  playingDate(): number | null;
  destroy(): void;
}

/** Once the gateway has answered, a WHEP viewer waits this long for a first frame before it gives up on WebRTC. */
const WHEP_FIRST_FRAME_MS = 5000;

/** `session`: the page's player session, named on every HLS request (lib/playback-session.ts). */
export function createPlayer(p: Playback, session: string): Player {
  const live = p.status === 'live';
  // Null for an ended broadcast its streamer did not record: there is nothing to play.
  const src = p.playback_urls.hls;
  const video = h('video', {
    controls: true,
    playsinline: true,
    muted: true,
    autoplay: true,
    'data-testid': 'video',
    ...(p.thumbnail && { poster: p.thumbnail }),
  });
  // Autoplay policies allow muted playback only; the viewer unmutes with the controls.
  video.muted = true;
  const qualitySelect = h('select', { 'aria-label': 'Quality', 'data-testid': 'quality', hidden: true });
  const latency = h('span', { class: 'latency', 'data-testid': 'latency' });
  const target = h('span', { class: 'latency', 'data-testid': 'latency-target' });
  const catchingUp = h(
    'span',
    { class: 'pill catching-up', 'data-testid': 'catching-up', hidden: true },
    'catching up',
  );
  const toLive = h('button', { class: 'btn small', hidden: true }, 'Go to live');
  const rewind = h(
    'button',
    { class: 'btn small', hidden: true, 'data-testid': 'rewind', title: `Back ${REWIND_STEP_S} s` },
    `⟲ ${REWIND_STEP_S} s`,
  );
  // Which way the video arrives, where WebRTC is offered: WebRTC, or LL-HLS and why.
  const transport = h('span', { class: 'pill transport', 'data-testid': 'transport', hidden: true });
  const message = h('div', { class: 'player-message', hidden: true });
  const badge = live
    ? h('span', { class: 'pill live', 'data-testid': 'live-badge' }, 'LIVE')
    : h('span', { class: 'pill' }, p.status === 'ready' ? 'OFFLINE' : src === null ? 'ENDED' : 'VOD');
  const bar = h(
    'div',
    { class: 'player-bar' },
    badge,
    transport,
    latency,
    target,
    catchingUp,
    rewind,
    toLive,
    h('span', { class: 'grow' }),
    qualitySelect,
  );
  const element = h('div', { class: 'player' }, h('div', { class: 'video-box' }, video, message), bar);

  let hls: HlsType | undefined;
  let whep: Session | undefined;
  let whepPlaying = false;
  let destroyed = false;
  let levels: string[] = [];
  let current: number = -1;
  /** On the DVR playlists, behind live by the viewer's choice. */
  let rewound = false;
  let statusFollowed = false;
  let stalledSince: number | null = null;
  let stalledMs = 0;
  const timers: number[] = [];

  const show = (text: string | null) => {
    message.hidden = text === null;
    message.textContent = text ?? '';
  };
  video.addEventListener('waiting', () => (stalledSince ??= performance.now()));
  const unstall = () => {
    if (stalledSince !== null) stalledMs += performance.now() - stalledSince;
    stalledSince = null;
  };
  video.addEventListener('playing', () => {
    unstall();
    show(null);
  });

  const fillQualities = (list: Level[]) => {
    levels = list.map((l, i) => levelName(l, i));
    const order = list.map((l, i) => ({ i, h: l.height || 0, b: l.bitrate })).sort((a, b) => b.h - a.h || b.b - a.b);
    qualitySelect.replaceChildren(
      h('option', { value: '-1' }, 'Auto'),
      ...order.map(({ i }) => h('option', { value: String(i) }, levels[i]!)),
    );
    qualitySelect.hidden = list.length < 2;
  };
  const autoLabel = () => {
    const auto = qualitySelect.querySelector('option[value="-1"]');
    if (auto) auto.textContent = hls?.autoLevelEnabled && current >= 0 ? `Auto (${levels[current]})` : 'Auto';
  };

  // hls.js is most of the page's weight: fetched only when a video is to be played.
  const attach = async (src: string, rewind?: { to: number; rendition: string | null }) => {
    const { default: Hls } = await import('hls.js');
    if (destroyed) return;
    if (!Hls.isSupported()) {
      if (video.canPlayType('application/vnd.apple.mpegurl')) {
        // Native HLS names the session on the master playlist only: such a player is not counted
        // where the counter requires playback (docs/viewers.md).
        video.src = withPlaybackSession(src, session);
        qualitySelect.hidden = true;
      } else {
        show('This browser cannot play HLS video.');
      }
      return;
    }
    rewound = rewind !== undefined;
    hls = new Hls({
      ...(rewound ? dvrHlsConfig(p.latency_mode) : hlsConfig(p.latency_mode, live)),
      // Every playlist, segment and part request names the session: the edge reports the media
      // ones as this page's playback, which is what makes its heartbeats count.
      xhrSetup: (xhr: XMLHttpRequest, url: string) => xhr.open('GET', withPlaybackSession(url, session), true),
    });
    if (rewind !== undefined) {
      // One rendition, no ABR: a rung the worker dropped for a while has a hole in its DVR
      // playlist, so the renditions' timelines differ and a switch would land nowhere.
      const instance = hls;
      hls.once(Hls.Events.MANIFEST_PARSED, (_e, data) => {
        const pinned = dvrLevel(
          data.levels.map((l, i) => levelName(l, i)),
          rewind.rendition,
        );
        fetch(withPlaybackSession(data.levels[pinned]!.uri, session))
          .then((r) => (r.ok ? r.text() : Promise.reject(new Error(`the DVR playlist answered ${r.status}`))))
          .then((text) => {
            if (hls !== instance) return;
            instance.startLevel = pinned;
            instance.loadLevel = pinned;
            instance.startLoad(dvrStartPosition(dvrFragments(text), rewind.to));
          })
          .catch(() => {
            show('Rewind is not available for this stream.');
            goLive();
          });
      });
    } else if (live) {
      // The live sync settings hls.js takes on the instance (the plain-HLS fallback target now, the
      // seek-back bound from the target each playlist update gives) and the catch-up rate.
      const instance = hls;
      // Only while this instance plays: a rewind replaces it, and "Go to live" makes another.
      const follow = () => {
        if (hls === instance) followLive(instance, liveSyncFallback(p.latency_mode), catchUpRate(p.latency_mode));
      };
      follow();
      hls.on(Hls.Events.LEVEL_UPDATED, follow);
      video.addEventListener('timeupdate', follow);
    }
    hls.attachMedia(video);
    hls.loadSource(src);
    hls.on(Hls.Events.MANIFEST_PARSED, (_e, data) => {
      fillQualities(data.levels);
      void video.play().catch(() => undefined);
    });
    hls.on(Hls.Events.LEVEL_SWITCHED, (_e, data) => {
      current = data.level;
      autoLabel();
    });
    hls.on(Hls.Events.ERROR, (_e, data) => {
      if (!data.fatal) return;
      if (data.type === Hls.ErrorTypes.NETWORK_ERROR) {
        // A live playlist that is not there yet (encoder just connected) or a blip: retry.
        show(live ? 'Waiting for the stream…' : 'Could not load the video; retrying…');
        // Without a manifest there is nothing to resume: ask for it again.
        const noManifest = !hls?.levels.length;
        if (rewound && noManifest) {
          show('Rewind is not available for this stream.');
          return goLive();
        }
        timers.push(window.setTimeout(() => (noManifest ? hls?.loadSource(src) : hls?.startLoad()), 2000));
      } else if (data.type === Hls.ErrorTypes.MEDIA_ERROR) {
        hls?.recoverMediaError();
      } else {
        show(`Playback failed: ${data.details}`);
      }
    });
    qualitySelect.addEventListener('change', () => {
      // -1 hands the choice back to ABR; a fixed level switches at the next fragment.
      if (hls) hls.currentLevel = Number(qualitySelect.value);
      autoLabel();
    });
  };
  /** Leaves the DVR playlists for the live ones, at the live edge. */
  const goLive = () => {
    hls?.destroy();
    hls = undefined;
    rewound = false;
    playHls();
  };
  const rewindBy = (seconds: number) => {
    const dvrSrc = p.playback_urls.dvr;
    if (!dvrSrc) return;
    if (rewound && hls) {
      // By program date time, as the first press: where the rung has a hole, 30 s of the
      // playlist's timeline is more than 30 s of the broadcast.
      const at = hls.playingDate?.getTime();
      const fragments = hls.levels[hls.currentLevel]?.details?.fragments;
      video.currentTime =
        at !== undefined && fragments?.length
          ? dvrStartPosition(fragments, at - seconds * 1000)
          : Math.max(video.seekable.length ? video.seekable.start(0) : 0, video.currentTime - seconds);
      return;
    }
    const from = hls?.playingDate?.getTime() ?? Date.now();
    hls?.destroy();
    hls = undefined;
    video.playbackRate = 1;
    const rendition = current >= 0 ? (levels[current] ?? null) : null;
    attach(dvrSrc, { to: from - seconds * 1000, rendition }).catch((err: unknown) =>
      show(`Could not rewind: ${(err as Error).message}`),
    );
  };
  const followStatus = () => {
    toLive.addEventListener('click', () => {
      if (rewound) return goLive();
      const edge = hls?.liveSyncPosition;
      if (edge !== null && edge !== undefined) video.currentTime = edge;
    });
    rewind.hidden = !p.playback_urls.dvr;
    rewind.addEventListener('click', () => rewindBy(REWIND_STEP_S));
    timers.push(
      window.setInterval(() => {
        const playing = hls && video.readyState >= 2;
        if (rewound) {
          const at = playing ? hls?.playingDate?.getTime() : undefined;
          latency.textContent = at === undefined ? '' : behindLiveLabel(Date.now() - at);
          target.textContent = '';
          catchingUp.hidden = true;
          toLive.hidden = false;
          return;
        }
        const status = liveStatus(playing ? hls!.latency : null, hls?.targetLatency ?? null, video.playbackRate);
        latency.textContent = status.latency;
        target.textContent = status.target;
        catchingUp.hidden = !status.catchingUp;
        toLive.hidden = !status.farBehind;
      }, 1000),
    );
  };
  const playHls = () => {
    if (src === null) return show('This stream cannot be played over HLS.');
    if (live && !statusFollowed) {
      statusFollowed = true;
      followStatus();
    }
    attach(src).catch((err: unknown) => show(`Could not start the player: ${(err as Error).message}`));
  };

  // A tab closed or reloaded runs no view cleanup: the session is ended as the page goes.
  const endWhep = () => whep?.end();
  const playWhep = (url: string) => {
    transport.hidden = false;
    transport.textContent = 'WebRTC · ultra-low';
    let settled = false;
    const fallBack = (why: WhepFailure) => {
      if (settled || destroyed) return;
      settled = true;
      whep?.end();
      whep = undefined;
      whepPlaying = false;
      video.srcObject = null;
      const reason = fallbackMessage(why);
      transport.textContent = 'LL-HLS';
      transport.title = `Playing LL-HLS: ${reason}`;
      transport.dataset.fallback = reason;
      playHls();
    };
    window.addEventListener('pagehide', endWhep);
    video.requestVideoFrameCallback(() => {
      if (!settled) whepPlaying = true;
    });
    play(url, (stream) => {
      if (video.srcObject !== stream) video.srcObject = stream;
      void video.play().catch(() => undefined);
    }).then(
      (session) => {
        if (destroyed || settled) return session.end();
        whep = session;
        // From the answer on: the gateway has accepted, the rest is ICE, DTLS and a keyframe.
        timers.push(
          window.setTimeout(() => {
            if (!whepPlaying) fallBack({ kind: 'no-frames', afterMs: WHEP_FIRST_FRAME_MS });
          }, WHEP_FIRST_FRAME_MS),
        );
        session.pc.addEventListener('connectionstatechange', () => {
          if (linkState(session.pc.connectionState) === 'failed') fallBack({ kind: 'connection' });
        });
      },
      (err: unknown) =>
        fallBack(
          err instanceof WebRtcRefused
            ? { kind: 'refused', status: err.status, message: err.message }
            : { kind: 'error', message: (err as Error).message },
        ),
    );
  };

  const path = playbackPath(p);
  // The offer names the session too: the WebRTC gateway reports what it sends it, as the edge does.
  if (path === 'webrtc') playWhep(withPlaybackSession(p.playback_urls.webrtc!, session));
  else if (path === 'hls') playHls();
  else if (p.status === 'ready')
    show(`${p.streamer.username} is offline. The stream starts when their encoder connects.`);
  else show('This broadcast has ended. It was not recorded.');

  return {
    element,
    video,
    quality: () => (whepPlaying ? WEBRTC_QUALITY : current >= 0 ? (levels[current] ?? null) : null),
    playingCapturedAt: () =>
      live && !whepPlaying && !rewound && hls && !video.paused && video.readyState >= 2
        ? (hls.playingDate?.getTime() ?? null)
        : null,
    playingDate: () => (hls && video.readyState >= 2 ? (hls.playingDate?.getTime() ?? null) : null),
    takeBufferingMs: () => {
      if (stalledSince !== null) {
        const now = performance.now();
        stalledMs += now - stalledSince;
        stalledSince = now;
      }
      const ms = Math.round(stalledMs);
      stalledMs = 0;
      return ms;
    },
    destroy: () => {
      destroyed = true;
      for (const t of timers) {
        clearInterval(t);
        clearTimeout(t);
      }
      hls?.destroy();
      endWhep();
      window.removeEventListener('pagehide', endWhep);
      video.srcObject = null;
      video.removeAttribute('src');
      video.load();
    },
  };
}
