import { spawn } from 'node:child_process';
import { BITS, HEIGHT, STRIP } from './live-rig.ts';

/**
 * The bar code (bench/lib/live-rig.ts) of the first video frame of a media file or URL that starts
 * with a keyframe (an MPEG-TS segment, an fMP4 init section + its first part): ms since the
 * publisher started. The strip is cropped, scaled to one pixel per block with area averaging,
 * and each block thresholded.
 */
export async function readCode(input: string, ffmpeg: string): Promise<number> {
  const out = await new Promise<Buffer>((resolve, reject) => {
    const child = spawn(
      ffmpeg,
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-i',
        input,
        '-frames:v',
        '1',
        '-vf',
        `crop=iw:ih*${STRIP - 8}/${HEIGHT}:0:4,scale=${BITS}:1:flags=area,format=gray`,
        '-f',
        'rawvideo',
        '-',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const chunks: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => chunks.push(d));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`ffmpeg ${code} on ${input}`)),
    );
  });
  if (out.length < BITS) throw new Error(`no frame in ${input}`);
  let v = 0;
  for (let k = 0; k < BITS; k++) v = v * 2 + (out[k]! >= 128 ? 1 : 0);
  return v;
}
