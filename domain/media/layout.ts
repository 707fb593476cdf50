import { dataPath } from '../../platform/paths.ts';

/**
 * Where media lives under MEDIA_ROOT, one folder per stream. Workers write segments and
 * thumbnails; the packager alone writes the playlists and its own state:
 *
 *   <streamId>/master.m3u8             live master playlist (renditions with at least one segment)
 *   <streamId>/<rendition>.m3u8        live media playlist (sliding window)
 *   <streamId>/dvr.m3u8                DVR master playlist (live: rewind up to the DVR window)
 *   <streamId>/<rendition>.dvr.m3u8    DVR media playlist (whole segments of the window, no parts)
 *   <streamId>/vod.m3u8                VOD master playlist (recorded streams, once ended)
 *   <streamId>/<rendition>.vod.m3u8    VOD media playlist (every segment, ENDLIST)
 *   <streamId>/<rendition>/init-000040.mp4  fMP4 init section of the worker run that began at 40
 *   <streamId>/<rendition>/000042.m4s  CMAF segments (media workers; '.ts' in recordings made before CMAF)
 *   <streamId>/<rendition>/000042.3.m4s  LL-HLS parts of segment 42 (media workers)
 *   <streamId>/thumbs/000003.jpg       thumbnails (media workers)
 *   <streamId>/.packager/              packager state and recording journal (never served)
 *
 * Every playlist sits in the stream's folder, so the segment URIs of the events (relative to that
 * folder) are written as they are.
 */
export const DEFAULT_MEDIA_ROOT = dataPath('media');

export const PACKAGER_DIR = '.packager';

export const layout = {
  master: 'master.m3u8',
  media: (rendition: string) => `${rendition}.m3u8`,
  dvrMaster: 'dvr.m3u8',
  dvrMedia: (rendition: string) => `${rendition}.dvr.m3u8`,
  vodMaster: 'vod.m3u8',
  vodMedia: (rendition: string) => `${rendition}.vod.m3u8`,
  state: `${PACKAGER_DIR}/state.json`,
  journal: (rendition: string) => `${PACKAGER_DIR}/${rendition}.jsonl`,
};

/** Stream ids and rendition names become folder and file names: letters, digits, '_' and '-' only. */
const NAME = /^[A-Za-z0-9_-]{1,128}$/;
/**
 * A relative path of such names (the last may carry one extension, or a part number and one
 * extension: '000042.3.m4s'), never '.', '..' or a dot file.
 */
const RELATIVE = /^(?:[A-Za-z0-9_-]{1,128}\/){0,3}[A-Za-z0-9_-]{1,128}(?:\.\d{1,3})?(?:\.[A-Za-z0-9]{1,8})?$/;

export const isSafeName = (s: string): boolean => NAME.test(s);
export const isSafeRelativePath = (s: string): boolean => RELATIVE.test(s);
