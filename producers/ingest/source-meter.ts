/**
 * What a streamer's encoder is actually sending, measured from the packets ingest relays: bits
 * per second (audio and video payloads), frames per second, and the time between keyframes
 * (IDR pictures). Ingest reads it every couple of seconds for the stream-health metrics the
 * go-live page charts. Pure: packets in, figures out; the caller supplies the clock.
 */
export interface SourceReading {
  /** Over the window since the previous reading. */
  bitsPerSecond: number;
  framesPerSecond: number;
  /** The latest distance between two keyframes, in seconds (by the source's own timestamps). */
  keyframeIntervalS: number | null;
}

export class SourceMeter {
  private bytes = 0;
  private frames = 0;
  private lastKeyDtsMs: number | null = null;
  private keyframeIntervalS: number | null = null;

  constructor(private windowStartMs: number) {}

  /** One video access unit in Annex B (start-code prefixed NAL units), with its decode time. */
  video(dtsMs: number, annexB: Uint8Array): void {
    this.bytes += annexB.length;
    this.frames++;
    if (!hasIdr(annexB)) return;
    if (this.lastKeyDtsMs !== null && dtsMs > this.lastKeyDtsMs)
      this.keyframeIntervalS = (dtsMs - this.lastKeyDtsMs) / 1000;
    this.lastKeyDtsMs = dtsMs;
  }

  audio(bytes: number): void {
    this.bytes += bytes;
  }

  /** Figures since the last reading (null before a whole second has passed), starting a new window. */
  read(nowMs: number): SourceReading | null {
    const seconds = (nowMs - this.windowStartMs) / 1000;
    if (seconds < 1) return null;
    const reading = {
      bitsPerSecond: Math.round((this.bytes * 8) / seconds),
      framesPerSecond: Math.round((this.frames / seconds) * 100) / 100,
      keyframeIntervalS: this.keyframeIntervalS,
    };
    this.bytes = 0;
    this.frames = 0;
    this.windowStartMs = nowMs;
    return reading;
  }
}

/** Whether an Annex B access unit holds an IDR slice (NAL unit type 5). */
export function hasIdr(au: Uint8Array): boolean {
  // Each NAL unit follows a 00 00 01 start code (the 4-byte form ends with the same three bytes).
  for (let i = 0; i + 3 < au.length; i++) {
    if (au[i] === 0 && au[i + 1] === 0 && au[i + 2] === 1 && (au[i + 3]! & 0x1f) === 5) return true;
  }
  return false;
}
