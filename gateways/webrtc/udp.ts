import { createSocket, type Socket } from 'node:dgram';

/** A UDP socket bound on loopback to a free port (the RTMP bridge's RTP arrives on it). */
export function bindLoopback(): Promise<{ socket: Socket; port: number }> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve({ socket, port: socket.address().port });
    });
  });
}

/**
 * An even port p with p + 1 free too, for an ffmpeg RTP input (RTP on p, RTCP on p + 1): both
 * are bound to prove them free and let go for ffmpeg to take at once.
 */
export async function freeRtpPortPair(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const p = 20000 + 2 * Math.floor(Math.random() * 15000);
    const a = await tryBind(p);
    if (!a) continue;
    const b = await tryBind(p + 1);
    a.close();
    if (!b) continue;
    b.close();
    return p;
  }
  throw new Error('no free pair of UDP ports on loopback');
}

function tryBind(port: number): Promise<Socket | null> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(null);
    });
    s.bind(port, '127.0.0.1', () => resolve(s));
  });
}
