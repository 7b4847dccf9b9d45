import { EventHub, IEventSourceLike } from '../events';
import { ITransferEvent, IVersionEvent } from '../tokens';

class FakeSource implements IEventSourceLike {
  static made: FakeSource[] = [];
  constructor(readonly url: string) {
    FakeSource.made.push(this);
  }
  onopen: ((ev: Event) => unknown) | null = null;
  onerror: ((ev: Event) => unknown) | null = null;
  readyState = 0;
  closed = false;
  listeners = new Map<string, (ev: MessageEvent) => void>();
  addEventListener(type: string, listener: (ev: MessageEvent) => void): void {
    this.listeners.set(type, listener);
  }
  close(): void {
    this.closed = true;
    this.readyState = 2;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.(new Event('open'));
  }
  send(type: string, data: unknown, id = ''): void {
    this.listeners.get(type)?.({
      data: JSON.stringify(data),
      lastEventId: id
    } as MessageEvent);
  }
  fail(closed: boolean): void {
    this.readyState = closed ? 2 : 0;
    this.onerror?.(new Event('error'));
  }
}

/** BroadcastChannel between "tabs" of one test, delivered synchronously. */
class FakeChannel {
  static all: FakeChannel[] = [];
  onmessage: ((ev: MessageEvent) => void) | null = null;
  constructor(readonly name: string) {
    FakeChannel.all.push(this);
  }
  postMessage(data: unknown): void {
    for (const c of FakeChannel.all) {
      if (c !== this && c.name === this.name) {
        c.onmessage?.({ data } as MessageEvent);
      }
    }
  }
  close(): void {
    FakeChannel.all = FakeChannel.all.filter(c => c !== this);
  }
}

/** A Web Lock held by the first requester until it releases; the next one then gets it. */
class FakeLocks {
  queue: Array<() => void> = [];
  held = false;
  request(_name: string, callback: () => Promise<void> | undefined): Promise<void> {
    return new Promise(resolve => {
      const run = () => {
        this.held = true;
        Promise.resolve(callback()).then(() => {
          this.held = false;
          resolve();
          this.queue.shift()?.();
        });
      };
      if (this.held) {
        this.queue.push(run);
      } else {
        run();
      }
    });
  }
}

const ev: IVersionEvent = {
  dataset_id: 'ds-1',
  number: 1,
  ref: 'ds-1@1',
  status: 'ready'
};

function hub(locks: FakeLocks | null) {
  return new EventHub({
    url: last => (last ? `/events?last_event_id=${last}` : '/events'),
    name: 'test',
    createSource: url => new FakeSource(url),
    locks: locks as unknown as LockManager,
    createChannel: locks
      ? name => new FakeChannel(name) as unknown as BroadcastChannel
      : null,
    retryAfter: 0,
    document: null
  });
}

const tick = () => new Promise(resolve => setTimeout(resolve, 5));

beforeEach(() => {
  FakeSource.made = [];
  FakeChannel.all = [];
});

describe('EventHub', () => {
  it('without Web Locks: one stream per tab, events and resync on open', async () => {
    const h = hub(null);
    const got: IVersionEvent[] = [];
    let resyncs = 0;
    h.received.connect((_, e) => got.push(e));
    h.resync.connect(() => resyncs++);
    h.start();
    expect(FakeSource.made).toHaveLength(1);
    FakeSource.made[0].open();
    expect(h.state).toBe('open');
    expect(resyncs).toBe(1);
    FakeSource.made[0].send('version', ev, '7');
    expect(got).toEqual([ev]);
    // the server says events were missed
    FakeSource.made[0].send('resync', { reason: 'registry-restarted' }, '8');
    expect(resyncs).toBe(2);
    h.dispose();
    expect(FakeSource.made[0].closed).toBe(true);
  });

  it('reconnects after a refusal, resuming after the last event id', async () => {
    const h = hub(null);
    h.start();
    const first = FakeSource.made[0];
    first.open();
    first.send('version', ev, '42');
    first.fail(false); // the browser retries by itself
    expect(h.state).toBe('connecting');
    expect(FakeSource.made).toHaveLength(1);
    first.fail(true); // refused: this hub retries
    expect(h.state).toBe('closed');
    await tick();
    expect(FakeSource.made).toHaveLength(2);
    expect(FakeSource.made[1].url).toBe('/events?last_event_id=42');
    h.dispose();
  });

  it('shares one connection between tabs; another tab takes over when it closes', async () => {
    const locks = new FakeLocks();
    const tabs = [hub(locks), hub(locks), hub(locks)];
    const got = tabs.map(() => [] as IVersionEvent[]);
    tabs.forEach((t, i) => t.received.connect((_, e) => got[i].push(e)));
    let followerResyncs = 0;
    tabs[2].resync.connect(() => followerResyncs++);
    tabs.forEach(t => t.start());
    await tick();
    expect(FakeSource.made).toHaveLength(1);
    expect(tabs.map(t => t.isLeader)).toEqual([true, false, false]);
    FakeSource.made[0].open();
    expect(followerResyncs).toBe(1);
    expect(tabs[2].state).toBe('open');
    FakeSource.made[0].send('version', ev, '1');
    expect(got.map(g => g.length)).toEqual([1, 1, 1]);

    tabs[0].dispose(); // the leading tab closes
    await tick();
    expect(FakeSource.made).toHaveLength(2);
    expect(tabs[1].isLeader).toBe(true);
    FakeSource.made[1].open();
    FakeSource.made[1].send('version', { ...ev, number: 2 }, '2');
    expect(got[2].map(e => e.number)).toEqual([1, 2]);
    tabs.forEach(t => t.dispose());
  });

  it('relays transfer events to every tab, resuming after their ids too', async () => {
    const locks = new FakeLocks();
    const tabs = [hub(locks), hub(locks)];
    const got = tabs.map(() => [] as ITransferEvent[]);
    const versions: IVersionEvent[] = [];
    tabs.forEach((t, i) => t.transferReceived.connect((_, e) => got[i].push(e)));
    tabs[1].received.connect((_, e) => versions.push(e));
    tabs.forEach(t => t.start());
    await tick();
    FakeSource.made[0].open();
    const t: ITransferEvent = { id: 'tr-1', state: 'running', attempts: 1 };
    FakeSource.made[0].send('transfer', t, '9');
    expect(got).toEqual([[t], [t]]);
    expect(versions).toEqual([]); // not mistaken for a version
    FakeSource.made[0].fail(true);
    await tick();
    expect(FakeSource.made[1].url).toBe('/events?last_event_id=9');
    tabs.forEach(x => x.dispose());
  });
});
