import { RTCPeerConnection, RTCRtpCodecParameters, type PeerConfig } from 'werift';
import { keepCandidates } from './sdp.ts';

/**
 * werift peer connections as the gateway makes them: H.264 (packetization mode 1, the browsers'
 * constrained baseline) and Opus only, so a negotiated session never carries a codec the RTMP
 * bridge or a viewer could not take; ICE on the configured address alone.
 */
export interface IceSettings {
  address: string;
  announce: string[];
  portRange: [number, number] | null;
}

const H264 = (): RTCRtpCodecParameters =>
  new RTCRtpCodecParameters({
    mimeType: 'video/H264',
    clockRate: 90000,
    rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }],
    parameters: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
  });

const OPUS = (): RTCRtpCodecParameters =>
  new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2 });

export function newPeer(ice: IceSettings): RTCPeerConnection {
  const config: Partial<PeerConfig> = {
    codecs: { video: [H264()], audio: [OPUS()] },
    iceUseIpv4: true,
    iceUseIpv6: false,
    iceInterfaceAddresses: { udp4: ice.address },
    // werift leaves loopback out of its host addresses: name the configured ones outright.
    iceAdditionalHostAddresses: [ice.address, ...ice.announce],
    icePortRange: ice.portRange ?? undefined,
    iceServers: [],
    bundlePolicy: 'max-bundle',
  };
  return new RTCPeerConnection(config);
}

/**
 * Applies an offer and returns the answer with every candidate in it: WHIP and WHEP answer in
 * one exchange (the server gathers only host candidates, which is immediate).
 */
export async function answer(pc: RTCPeerConnection, offer: string, ice: IceSettings): Promise<string> {
  await pc.setRemoteDescription({ type: 'offer', sdp: offer });
  await pc.setLocalDescription(await pc.createAnswer());
  await gathered(pc);
  return keepCandidates(pc.localDescription!.sdp, [ice.address, ...ice.announce]);
}

/** Resolves once the connection's ICE candidates are all gathered (host ones only: at once). */
export async function gathered(pc: RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === 'complete') return;
  await new Promise<void>((done) => {
    const sub = pc.iceGatheringStateChange.subscribe((s) => {
      if (s !== 'complete') return;
      sub.unSubscribe();
      done();
    });
  });
}
