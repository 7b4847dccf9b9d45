/**
 * The sidebar's transfers: your recent ones, kept live by `event: transfer` from the event
 * stream, and a signal when one this tab saw running ends (for the notifications).
 *
 * States only move forward (pending/running → complete/failed/cancelled): a list fetched
 * before an event arrived never takes a finished transfer back to running. While transfers run,
 * the list is fetched again now and then, so a missed event cannot leave one running forever.
 */
import { VDomModel } from '@jupyterlab/apputils';
import { Debouncer } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { errorMessage } from './model';
import { ACTIVE_STATES } from './transfers';
import { IFermiApi, ITransfer, ITransferEvent } from './tokens';

export class TransfersModel extends VDomModel {
  constructor(options: {
    api: IFermiApi;
    debounce?: number;
    volumeName?: (id: string) => string | undefined;
    /** seconds between fetches of the list while transfers run (0: never) */
    pollSeconds?: number;
  }) {
    super();
    this.api = options.api;
    this._pollSeconds = options.pollSeconds ?? 10;
    this.volumeName = options.volumeName ?? (() => undefined);
    this._refresher = new Debouncer(() => this.refresh(), options.debounce ?? 300);
  }

  readonly api: IFermiApi;
  /** a volume's name, to show transfers by it rather than by id */
  readonly volumeName: (id: string) => string | undefined;
  items: ITransfer[] = [];
  loaded = false;
  error: string | null = null;

  /** A transfer this tab saw pending or running has ended (complete, failed, cancelled). */
  get finished(): ISignal<this, ITransfer> {
    return this._finished;
  }

  get active(): ITransfer[] {
    return this.items.filter(t => ACTIVE_STATES.has(t.state));
  }

  async refresh(): Promise<void> {
    try {
      const page = await this.api.transfers();
      const known = new Map(this.items.map(t => [t.id, t]));
      this.items = page.items.map(t => {
        const mine = known.get(t.id);
        return mine && finished(mine) && !finished(t) ? mine : t;
      });
      for (const t of this.items) {
        this._see(t);
      }
      this.error = null;
    } catch (e) {
      this.error = errorMessage(e);
    }
    this.loaded = true;
    this.stateChanged.emit();
    this._schedule();
  }

  /** A transfer just started from this tab. */
  add(t: ITransfer): void {
    this.items = [t, ...this.items.filter(x => x.id !== t.id)];
    this._see(t);
    this.stateChanged.emit();
    this._schedule();
  }

  applyEvent(event: ITransferEvent): void {
    const i = this.items.findIndex(t => t.id === event.id);
    if (i < 0) {
      // started elsewhere (another tab, the CLI): fetch the list for its full record
      void this._refresher.invoke();
      return;
    }
    if (finished(this.items[i]) && ACTIVE_STATES.has(event.state)) {
      return; // an event from before the end, arriving late
    }
    const merged: ITransfer = { ...this.items[i] };
    merged.state = event.state;
    if (event.attempts !== undefined) {
      merged.attempts = event.attempts;
    }
    if (event.progress) {
      merged.progress = event.progress;
    }
    if (event.reason !== undefined) {
      merged.reason = event.reason;
    }
    if (event.error !== undefined) {
      merged.error = event.error;
    }
    if (event.version !== undefined) {
      merged.version = event.version;
    }
    this.items = this.items.map((t, j) => (j === i ? merged : t));
    this._see(merged);
    this.stateChanged.emit();
    this._schedule();
  }

  /** Ask the registry to cancel; the answer (and then the events) update the list. */
  async cancel(id: string): Promise<void> {
    const t = await this.api.cancelTransfer(id);
    this.items = this.items.map(x => (x.id === id ? { ...x, ...t } : x));
    this._see(t);
    this.stateChanged.emit();
  }

  override dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._refresher.dispose();
    if (this._timer) {
      clearTimeout(this._timer);
    }
    super.dispose();
  }

  private _see(t: ITransfer): void {
    if (ACTIVE_STATES.has(t.state)) {
      this._watching.add(t.id);
    } else if (this._watching.delete(t.id)) {
      this._finished.emit(t);
    }
  }

  private _schedule(): void {
    if (this._timer || !this._pollSeconds || this.isDisposed || !this.active.length) {
      return;
    }
    this._timer = setTimeout(() => {
      this._timer = null;
      void this.refresh();
    }, this._pollSeconds * 1000);
  }

  private _refresher: Debouncer;
  private _pollSeconds: number;
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _watching = new Set<string>();
  private _finished = new Signal<this, ITransfer>(this);
}

function finished(t: ITransfer): boolean {
  return !ACTIVE_STATES.has(t.state);
}
