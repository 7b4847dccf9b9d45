/**
 * The registry's event stream, shared by every tab of one browser.
 *
 * Browsers give a host only six HTTP/1.1 connections; eight Lab tabs each holding an
 * EventSource would starve every other request. So one tab (the holder of a Web Lock) opens
 * the stream and relays it to the others over a BroadcastChannel; when that tab closes, another
 * takes the lock and reconnects. Each tab thus has at most one connection, usually none.
 * Without Web Locks (a page served over plain HTTP from another host) each tab opens its own.
 *
 * `resync` fires whenever events may have been missed: after a (re)connection and when the tab
 * becomes visible again. Listeners reload their state then.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { ITransferEvent, IVersionEvent } from './tokens';

export type ConnectionState = 'connecting' | 'open' | 'closed';

interface IMessage {
  kind: 'event' | 'transfer' | 'open' | 'closed' | 'resync';
  event?: IVersionEvent;
  transfer?: ITransferEvent;
}

/** The subset of `EventSource` used here (tests pass their own). */
export interface IEventSourceLike {
  onopen: ((ev: Event) => unknown) | null;
  onerror: ((ev: Event) => unknown) | null;
  readonly readyState: number;
  addEventListener(type: string, listener: (ev: MessageEvent) => void): void;
  close(): void;
}

export interface IEventHubOptions {
  /** the stream's URL, resuming after an event id when given */
  url: (lastEventId: string | null) => string;
  /** shared by the tabs of one server */
  name: string;
  createSource?: (url: string) => IEventSourceLike;
  locks?: LockManager | null;
  createChannel?: ((name: string) => BroadcastChannel) | null;
  /** seconds before trying again after the server refused the stream */
  retryAfter?: number;
  document?: Document | null;
}

export class EventHub implements IDisposable {
  constructor(options: IEventHubOptions) {
    this._url = options.url;
    this._name = options.name;
    this._createSource =
      options.createSource ??
      ((url: string) => new EventSource(url, { withCredentials: true }));
    this._locks =
      options.locks !== undefined
        ? options.locks
        : typeof navigator !== 'undefined' && navigator.locks
          ? navigator.locks
          : null;
    const createChannel =
      options.createChannel !== undefined
        ? options.createChannel
        : typeof BroadcastChannel !== 'undefined'
          ? (name: string) => new BroadcastChannel(name)
          : null;
    this._channel = this._locks && createChannel ? createChannel(this._name) : null;
    this._retryAfter = options.retryAfter ?? 5;
    this._document =
      options.document !== undefined
        ? options.document
        : typeof document !== 'undefined'
          ? document
          : null;
  }

  /** Every version event, whichever tab received it. */
  get received(): ISignal<this, IVersionEvent> {
    return this._received;
  }

  /** Every transfer event (`event: transfer`), whichever tab received it. */
  get transferReceived(): ISignal<this, ITransferEvent> {
    return this._transferReceived;
  }

  /** Events may have been missed: reload. */
  get resync(): ISignal<this, void> {
    return this._resync;
  }

  get stateChanged(): ISignal<this, ConnectionState> {
    return this._stateChanged;
  }

  get state(): ConnectionState {
    return this._state;
  }

  /** Whether this tab holds the shared connection. */
  get isLeader(): boolean {
    return this._leader;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  start(): void {
    if (this._started || this._disposed) {
      return;
    }
    this._started = true;
    this._document?.addEventListener('visibilitychange', this._onVisibility);
    if (this._channel) {
      this._channel.onmessage = (ev: MessageEvent<IMessage>) =>
        this._onMessage(ev.data);
    }
    if (this._locks && this._channel) {
      const release = new Promise<void>(resolve => (this._releaseLock = resolve));
      this._locks
        .request(this._name, () => {
          if (this._disposed) {
            return undefined;
          }
          this._leader = true;
          this._connect();
          return release;
        })
        .catch(() => undefined);
      // followers learn the state from the leader; until then, assume it is connecting
      this._setState('connecting');
    } else {
      this._leader = true;
      this._connect();
    }
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._document?.removeEventListener('visibilitychange', this._onVisibility);
    if (this._retry) {
      clearTimeout(this._retry);
    }
    this._source?.close();
    this._source = null;
    this._channel?.close();
    this._releaseLock?.();
    Signal.clearData(this);
  }

  private _connect(): void {
    if (this._disposed) {
      return;
    }
    this._setState('connecting');
    const source = this._createSource(this._url(this._lastEventId));
    this._source = source;
    source.onopen = () => {
      this._setState('open');
      this._post({ kind: 'open' });
      this._resync.emit();
    };
    source.addEventListener('resync', (ev: MessageEvent) => {
      // the server says events were missed (registry restarted, replay unavailable)
      this._lastEventId = ev.lastEventId || this._lastEventId;
      this._post({ kind: 'resync' });
      this._resync.emit();
    });
    source.addEventListener('version', (ev: MessageEvent) => {
      this._lastEventId = ev.lastEventId || this._lastEventId;
      let event: IVersionEvent;
      try {
        event = JSON.parse(ev.data as string) as IVersionEvent;
      } catch {
        return;
      }
      this._post({ kind: 'event', event });
      this._received.emit(event);
    });
    source.addEventListener('transfer', (ev: MessageEvent) => {
      this._lastEventId = ev.lastEventId || this._lastEventId;
      let transfer: ITransferEvent;
      try {
        transfer = JSON.parse(ev.data as string) as ITransferEvent;
      } catch {
        return;
      }
      this._post({ kind: 'transfer', transfer });
      this._transferReceived.emit(transfer);
    });
    source.onerror = () => {
      // CONNECTING: the browser retries by itself; CLOSED: the server refused, retry later
      if (source.readyState === 2 && !this._disposed) {
        this._setState('closed');
        this._post({ kind: 'closed' });
        source.close();
        this._retry = setTimeout(() => this._connect(), this._retryAfter * 1000);
      } else {
        this._setState('connecting');
      }
    };
  }

  private _onMessage(message: IMessage): void {
    if (this._leader || this._disposed) {
      return;
    }
    if (message.kind === 'event' && message.event) {
      this._received.emit(message.event);
    } else if (message.kind === 'transfer' && message.transfer) {
      this._transferReceived.emit(message.transfer);
    } else if (message.kind === 'resync') {
      this._resync.emit();
    } else if (message.kind === 'open') {
      this._setState('open');
      this._resync.emit();
    } else if (message.kind === 'closed') {
      this._setState('closed');
    }
  }

  private _post(message: IMessage): void {
    try {
      this._channel?.postMessage(message);
    } catch {
      // a closed channel (tab going away): nothing to relay to
    }
  }

  private _setState(state: ConnectionState): void {
    if (state !== this._state) {
      this._state = state;
      this._stateChanged.emit(state);
    }
  }

  private _onVisibility = (): void => {
    if (this._document?.visibilityState === 'visible') {
      this._resync.emit();
    }
  };

  private _url: (lastEventId: string | null) => string;
  private _lastEventId: string | null = null;
  private _name: string;
  private _createSource: (url: string) => IEventSourceLike;
  private _locks: LockManager | null;
  private _channel: BroadcastChannel | null;
  private _retryAfter: number;
  private _document: Document | null;
  private _source: IEventSourceLike | null = null;
  private _retry: ReturnType<typeof setTimeout> | null = null;
  private _releaseLock: (() => void) | null = null;
  private _leader = false;
  private _started = false;
  private _disposed = false;
  private _state: ConnectionState = 'closed';
  private _received = new Signal<this, IVersionEvent>(this);
  private _transferReceived = new Signal<this, ITransferEvent>(this);
  private _resync = new Signal<this, void>(this);
  private _stateChanged = new Signal<this, ConnectionState>(this);
}
