import { ConnectionCounter } from './limits.ts';

/**
 * The WebSocket connections a gateway instance holds at once: in all, per remote address and per
 * user. An upgrade takes its slot before any asynchronous admission work (verifying a ticket,
 * reading the archive), so attempts in progress count as much as open sockets: a caller cannot
 * start more than its share by keeping upgrades in flight. The user's slot is added once the user
 * is known. A slot is given back exactly once: when the attempt fails or is aborted, or when its
 * socket closes.
 *
 * The address is the TCP peer's. Behind a proxy or load balancer that does not keep it (an HTTP
 * proxy, not an L4 one), every client shares the proxy's address: raise the per-address limit
 * there. The per-user limit holds either way.
 */
export interface ConnectionLimitsOptions {
  maxConnections: number;
  perAddress: number;
  perUser: number;
}

export type SlotRefusal = { ok: false; message: string };

/** What a slot does to its limits' counts; one per slot, made by ConnectionLimits. */
interface SlotCounts {
  addUser(userId: string): boolean;
  opened(): void;
  release(userId: string | undefined, wasUpgrading: boolean): void;
}

export class ConnectionLimits {
  private readonly all: ConnectionCounter;
  private readonly byAddress: ConnectionCounter;
  private readonly byUser: ConnectionCounter;
  private upgrading = 0;

  constructor(opts: ConnectionLimitsOptions) {
    this.all = new ConnectionCounter(opts.maxConnections);
    this.byAddress = new ConnectionCounter(opts.perAddress);
    this.byUser = new ConnectionCounter(opts.perUser);
  }

  /** Slots held: open sockets and attempts in progress. */
  get held(): number {
    return this.all.count('');
  }

  /** Attempts holding a slot whose socket is not open yet. */
  get inProgress(): number {
    return this.upgrading;
  }

  /** A slot for an attempt from `remoteAddress` (as uWS gives it), or why there is none. */
  acquire(remoteAddress: string): { ok: true; slot: ConnectionSlot } | SlotRefusal {
    const address = addressKey(remoteAddress);
    if (!this.all.tryAcquire('')) return { ok: false, message: 'this server is full' };
    if (!this.byAddress.tryAcquire(address)) {
      this.all.release('');
      return { ok: false, message: 'too many connections from this address' };
    }
    this.upgrading++;
    const counts: SlotCounts = {
      addUser: (userId) => this.byUser.tryAcquire(userId),
      opened: () => void this.upgrading--,
      release: (userId, wasUpgrading) => {
        if (wasUpgrading) this.upgrading--;
        if (userId !== undefined) this.byUser.release(userId);
        this.byAddress.release(address);
        this.all.release('');
      },
    };
    return { ok: true, slot: new ConnectionSlot(address, counts) };
  }
}

export class ConnectionSlot {
  private user: string | undefined;
  private state: 'upgrading' | 'open' | 'released' = 'upgrading';

  constructor(
    /** The key the address is counted under (addressKey). */
    readonly address: string,
    private readonly counts: SlotCounts,
  ) {}

  /** Adds the user's slot, or says why not (nothing more is taken then; the slot still needs releasing). */
  addUser(userId: string): { ok: true } | SlotRefusal {
    if (this.state === 'released' || this.user !== undefined) throw new Error('a slot takes one user, before release');
    if (!this.counts.addUser(userId)) return { ok: false, message: 'too many connections for this user' };
    this.user = userId;
    return { ok: true };
  }

  /** The socket is open: no longer an attempt in progress; held until release. */
  opened(): void {
    if (this.state !== 'upgrading') return;
    this.state = 'open';
    this.counts.opened();
  }

  /** Gives every count back; later calls do nothing. */
  release(): void {
    if (this.state === 'released') return;
    this.counts.release(this.user, this.state === 'upgrading');
    this.state = 'released';
  }
}

/**
 * The key an address is counted under: an IPv4 address as it is (also when it comes IPv4-mapped
 * in IPv6, as a dual-stack listener gives it), an IPv6 address by its /64 prefix, since one
 * subscriber is usually given a whole /64 and could otherwise take a new address per connection.
 * uWS writes IPv6 addresses as eight groups of four hex digits; the `::` short form is read too.
 */
export function addressKey(remote: string): string {
  if (!remote.includes(':')) return remote;
  const groups = expandIpv6(remote.toLowerCase());
  if (!groups) return remote;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [hi, lo] = [groups[6]!, groups[7]!];
    return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join('.');
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

function expandIpv6(text: string): number[] | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (s: string): number[] | undefined => {
    if (!s) return [];
    const out: number[] = [];
    for (const part of s.split(':')) {
      if (!/^[0-9a-f]{1,4}$/.test(part)) return undefined;
      out.push(parseInt(part, 16));
    }
    return out;
  };
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  return [...head, ...Array<number>(missing).fill(0), ...tail];
}
