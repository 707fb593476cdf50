import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testSourceArgs } from './test-source.ts';

describe('ffmpeg test source arguments', () => {
  it('live: paced at real time, no lookahead, pattern and tone to the given output', () => {
    // prettier-ignore
    assert.deepEqual(
      testSourceArgs(
        { size: '320x240', fps: 15, tone: { sampleRate: 44_100, bitrate: '64k' }, live: true, gop: 15, logLevel: 'warning' },
        ['-f', 'flv', 'rtmp://127.0.0.1:1935/live/KEY'],
      ),
      [
        '-hide_banner', '-loglevel', 'warning', '-nostdin', '-y',
        '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=15',
        '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
        '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '15',
        '-c:a', 'aac', '-b:a', '64k',
        '-f', 'flv', 'rtmp://127.0.0.1:1935/live/KEY',
      ],
    );
  });

  it('fixture: as fast as ffmpeg goes, a set length, a capped bitrate, keyframes only every gop', () => {
    // prettier-ignore
    assert.deepEqual(
      testSourceArgs(
        {
          size: '640x360', fps: 10, tone: { sampleRate: 22_050, bitrate: '32k' }, seconds: 8, live: false,
          gop: 20, fixedGop: true, video: { bitrate: '800k', capped: true },
        },
        ['-f', 'segment', '-segment_time', '2', '/tmp/s/%06d.ts'],
      ),
      [
        '-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
        '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=10',
        '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=22050',
        '-t', '8',
        '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '800k', '-maxrate', '800k', '-bufsize', '800k',
        '-g', '20', '-keyint_min', '20', '-sc_threshold', '0',
        '-c:a', 'aac', '-b:a', '32k',
        '-f', 'segment', '-segment_time', '2', '/tmp/s/%06d.ts',
      ],
    );
  });

  it('a constant quantizer and the AAC default bitrate; a plain bitrate', () => {
    // prettier-ignore
    assert.deepEqual(
      testSourceArgs(
        { size: '1920x1080', fps: 30, tone: { sampleRate: 48_000 }, seconds: 20, live: false, gop: 60, video: { qp: 18 } },
        ['/tmp/source.mp4'],
      ),
      [
        '-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
        '-f', 'lavfi', '-i', 'testsrc2=size=1920x1080:rate=30',
        '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
        '-t', '20',
        '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '18', '-g', '60',
        '-c:a', 'aac',
        '/tmp/source.mp4',
      ],
    );
    const plain = testSourceArgs(
      { size: '96x64', fps: 10, tone: null, live: true, gop: 20, video: { bitrate: '1500k' } },
      [],
    );
    assert.deepEqual(plain.slice(plain.indexOf('-b:v'), plain.indexOf('-g')), ['-b:v', '1500k']);
  });

  it('video only: no tone input and no audio encoder; a filter over the pattern', () => {
    // prettier-ignore
    assert.deepEqual(
      testSourceArgs(
        { size: '640x312', fps: 15, tone: null, live: true, gop: 30, filter: 'drawtext=text=x' },
        ['-f', 'flv', 'rtmp://h/live/k'],
      ),
      [
        '-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
        '-re', '-f', 'lavfi', '-i', 'testsrc2=size=640x312:rate=15',
        '-vf', 'drawtext=text=x',
        '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '30',
        '-f', 'flv', 'rtmp://h/live/k',
      ],
    );
  });
});
