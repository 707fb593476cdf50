import { h } from './dom.ts';
import { cameraErrorMessage, healthLine, linkState, sendHealth, type SendSample } from './lib/webrtc.ts';
import { publish, WebRtcRefused, type Session } from './webrtc.ts';

/**
 * "Broadcast from this browser": the camera and microphone, previewed, sent over WHIP with the
 * stream key as the bearer token; the connection's health (state, outgoing video bitrate, frames
 * per second, packets lost and round-trip time as the gateway reports them) is read from
 * getStats() once a second. Stopping sends the WHIP DELETE, which ends the broadcast as an
 * encoder's disconnect does.
 */
export interface Broadcaster {
  element: HTMLElement;
  /** True while a broadcast is running: navigating away would end it. */
  active(): boolean;
  destroy(): void;
}

export function broadcaster(whipUrl: string, streamKey: string): Broadcaster {
  const open = h(
    'button',
    { class: 'btn', type: 'button', 'data-testid': 'broadcast-open' },
    'Broadcast from this browser',
  );
  const preview = h('video', { muted: true, autoplay: true, playsinline: true, 'data-testid': 'broadcast-preview' });
  preview.muted = true;
  const start = h('button', { class: 'btn', type: 'button', 'data-testid': 'broadcast-start' }, 'Start broadcast');
  const stop = h(
    'button',
    { class: 'btn danger', type: 'button', 'data-testid': 'broadcast-stop', hidden: true },
    'Stop broadcast',
  );
  const health = h('p', { class: 'health', 'data-testid': 'broadcast-health', 'aria-live': 'polite' });
  const error = h('p', { class: 'error', role: 'alert', 'data-testid': 'broadcast-error', hidden: true });
  const studio = h(
    'div',
    { class: 'studio', hidden: true },
    h('div', { class: 'video-box' }, preview),
    h('div', { class: 'row' }, start, stop, health),
  );
  const element = h(
    'div',
    { class: 'broadcast', 'data-testid': 'broadcast' },
    h('h2', {}, 'Or broadcast from this browser'),
    h('p', { class: 'muted small' }, 'Your camera and microphone, sent over WebRTC: no encoder to install.'),
    open,
    studio,
    error,
  );

  let media: MediaStream | undefined;
  let session: Session | undefined;
  let poll: number | undefined;
  let destroyed = false;

  const fail = (text: string | null) => {
    error.hidden = text === null;
    error.textContent = text ?? '';
  };
  const endSession = () => {
    clearInterval(poll);
    session?.end();
    session = undefined;
  };

  open.addEventListener('click', () => {
    open.disabled = true;
    fail(null);
    navigator.mediaDevices.getUserMedia({ video: { width: 1280, height: 720, frameRate: 30 }, audio: true }).then(
      (m) => {
        if (destroyed) return m.getTracks().forEach((t) => t.stop());
        media = m;
        preview.srcObject = m;
        open.hidden = true;
        studio.hidden = false;
      },
      (err: unknown) => {
        const e = err as DOMException;
        fail(cameraErrorMessage(e.name, e.message));
        open.disabled = false;
      },
    );
  });

  start.addEventListener('click', () => {
    if (!media) return;
    start.disabled = true;
    fail(null);
    health.textContent = 'connecting';
    publish(media, whipUrl, streamKey).then(
      (s) => {
        if (destroyed) return s.end();
        session = s;
        start.hidden = true;
        stop.hidden = false;
        let sample: SendSample | null = null;
        const update = async () => {
          const state = linkState(s.pc.connectionState);
          const stats = await s.pc.getStats();
          const now = sendHealth(stats.values(), sample);
          sample = now.sample;
          health.textContent = healthLine(state, now);
          health.dataset.state = state;
          if (state === 'failed') {
            endSession();
            stop.hidden = true;
            fail('The connection to the WebRTC ingest failed. The broadcast has stopped.');
          }
        };
        poll = window.setInterval(() => void update().catch(() => undefined), 1000);
        void update();
      },
      (err: unknown) => {
        health.textContent = '';
        fail(
          err instanceof WebRtcRefused
            ? `The WebRTC ingest refused the broadcast: ${err.message}`
            : `Could not start the broadcast: ${(err as Error).message}`,
        );
        start.disabled = false;
      },
    );
  });

  stop.addEventListener('click', () => {
    endSession();
    media?.getTracks().forEach((t) => t.stop());
    stop.hidden = true;
    health.textContent = 'stopped';
    health.dataset.state = 'closed';
  });

  // A closed tab runs no view cleanup: the broadcast is ended as the page goes (keepalive DELETE).
  window.addEventListener('pagehide', endSession);
  return {
    element,
    active: () => session !== undefined,
    destroy: () => {
      destroyed = true;
      endSession();
      window.removeEventListener('pagehide', endSession);
      media?.getTracks().forEach((t) => t.stop());
      element.remove();
    },
  };
}
