import { ConnectionCounter } from './limits.ts';
import { addressKey } from './address.ts';

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
