/**
 * Reads the media playlists ffmpeg's HLS muxer writes for itself (RFC 8216 subset):
 *
 *   #EXT-X-MEDIA-SEQUENCE:40
 *   #EXTINF:2.000000,
 *   #EXT-X-PROGRAM-DATE-TIME:2026-11-25T20:32:10.566+0000
 *   000040.ts
 *   #EXT-X-ENDLIST
 *
 * ffmpeg lists a segment only after renaming it into place (temp_file), so every entry here is a
 * complete file. The sequence is taken from the file name, which the worker controls.
 */
export interface PlaylistEntry {
  sequence: number;
  durationMs: number;
  /** File name as listed, e.g. '000040.ts'. */
  file: string;
  /** Epoch ms; null when the playlist carries no date for it. */
  programDateTime: number | null;
}

export interface MediaPlaylist {
  entries: PlaylistEntry[];
  ended: boolean;
}

const SEGMENT_FILE = /^(\d+)\.ts$/;

export function parseMediaPlaylist(text: string): MediaPlaylist {
  const entries: PlaylistEntry[] = [];
  let duration: number | null = null;
  let pdt: number | null = null;
  let ended = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#EXTINF:')) {
      duration = Number.parseFloat(line.slice('#EXTINF:'.length));
    } else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) {
      pdt = parseDateTime(line.slice('#EXT-X-PROGRAM-DATE-TIME:'.length));
    } else if (line === '#EXT-X-ENDLIST') {
      ended = true;
    } else if (line && !line.startsWith('#')) {
      const file = line.split('/').pop()!;
      const m = SEGMENT_FILE.exec(file);
      if (m && duration !== null && Number.isFinite(duration)) {
        entries.push({ sequence: Number(m[1]), durationMs: Math.round(duration * 1000), file, programDateTime: pdt });
      }
      duration = null;
      pdt = null;
    }
  }
  return { entries, ended };
}

/** ffmpeg writes '+0000' offsets, which ISO 8601 parsers want as '+00:00'. */
function parseDateTime(s: string): number | null {
  const t = Date.parse(s.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  return Number.isFinite(t) ? t : null;
}

/** 42 -> '000042.ts': the on-disk and URI name of a segment. */
export const segmentFile = (sequence: number): string => `${String(sequence).padStart(6, '0')}.ts`;
export const thumbnailFile = (n: number): string => `${String(n).padStart(6, '0')}.jpg`;

/** Highest number among files named like '000042.ts' / '000003.jpg'; -1 when none. */
export function highestNumber(files: string[], ext: 'ts' | 'jpg'): number {
  const re = new RegExp(`^(\\d{6,})\\.${ext}$`);
  let max = -1;
  for (const f of files) {
    const m = re.exec(f);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return max;
}
