/**
 * The sidebar's transfers: your recent ones, kept live by `event: transfer` from the event
 * stream, and a signal when one this tab saw running ends (for the notifications).
 *
 * States only move forward (pending/running → complete/failed/cancelled): a list fetched
 * before an event arrived never takes a finished transfer back to running. While transfers run,
 * the list is fetched again now and then, so a missed event cannot leave one running forever.
 *
 * The list comes a page at a time, newest first; "Show more" appends the next page. A refresh
 * fetches the first page again and keeps the older pages already shown (the cursor is by
 * creation time, so it stays valid); running transfers on those pages are asked for one by one.
 */
import { VDomModel } from '@jupyterlab/apputils';
import { Debouncer } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { errorMessage } from './model';
import { ACTIVE_STATES, IPlaceNames } from './transfers';
import { IFermiApi, ITransfer, ITransferEvent } from './tokens';

export class TransfersModel extends VDomModel {
  constructor(options: {
    api: IFermiApi;
    debounce?: number;
    /** volumes' and datasets' names, to show transfers by them rather than by id */
    names?: IPlaceNames;
    /** seconds between fetches of the list while transfers run (0: never) */
    pollSeconds?: number;
    /** transfers per page */
    pageSize?: number;
  }) {
    super();
    this.api = options.api;
    this._pollSeconds = options.pollSeconds ?? 10;
    this.pageSize = options.pageSize ?? 50;
    this.names = options.names ?? {};
    this._refresher = new Debouncer(() => this.refresh(), options.debounce ?? 300);
  }

  readonly api: IFermiApi;
  /** volumes' and datasets' names, to show transfers by them rather than by id */
  readonly names: IPlaceNames;
  readonly pageSize: number;
  items: ITransfer[] = [];
  loaded = false;
  error: string | null = null;
  /** where the next page starts; null when every transfer is shown */
  nextCursor: string | null = null;
  loadingMore = false;
  /** why the last "Show more" failed */
  moreError: string | null = null;

  /** A transfer this tab saw pending or running has ended (complete, failed, cancelled). */
  get finished(): ISignal<this, ITransfer> {
    return this._finished;
  }

  get active(): ITransfer[] {
    return this.items.filter(t => ACTIVE_STATES.has(t.state));
  }

  async refresh(): Promise<void> {
    try {
      const page = await this.api.transfers({ limit: this.pageSize });
      const head = page.items.map(t => this._merged(t));
      let tail: ITransfer[] = [];
      if (this._pages > 1 && page.next_cursor !== null && head.length) {
        // keep the older pages shown, minus what the first page now holds
        const ids = new Set(head.map(t => t.id));
        const last = head[head.length - 1];
        tail = this.items.filter(t => !ids.has(t.id) && olderThan(t, last));
        tail = await this._fresh(tail);
      } else {
        this._pages = 1;
        this.nextCursor = page.next_cursor;
      }
      this.items = [...head, ...tail];
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

  /** "Show more": the next page, after those shown. */
  async loadMore(): Promise<void> {
    if (!this.nextCursor || this.loadingMore) {
      return;
    }
    this.loadingMore = true;
    this.stateChanged.emit();
    try {
      const page = await this.api.transfers({
        cursor: this.nextCursor,
        limit: this.pageSize
      });
      const ids = new Set(this.items.map(t => t.id));
      const more = page.items.filter(t => !ids.has(t.id));
      this.items = [...this.items, ...more];
      for (const t of more) {
        this._see(t);
      }
      this.nextCursor = page.next_cursor;
      this._pages += 1;
      this.moreError = null;
    } catch (e) {
      this.moreError = errorMessage(e);
    }
    this.loadingMore = false;
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

  /** The server's record, unless this tab already saw it end (states only move forward). */
  private _merged(t: ITransfer): ITransfer {
    const mine = this.items.find(x => x.id === t.id);
    return mine && finished(mine) && !finished(t) ? mine : t;
  }

  /** Running transfers of the older pages, asked for again (a few at most). */
  private async _fresh(tail: ITransfer[]): Promise<ITransfer[]> {
    const stale = tail.filter(t => ACTIVE_STATES.has(t.state)).slice(0, 10);
    const answers = await Promise.all(
      stale.map(t => this.api.transfer(t.id).catch(() => null))
    );
    const byId = new Map(
      answers.filter((t): t is ITransfer => t !== null).map(t => [t.id, t])
    );
    return tail.map(t => {
      const got = byId.get(t.id);
      return got ? this._merged(got) : t;
    });
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

  private _pages = 1;
  private _refresher: Debouncer;
  private _pollSeconds: number;
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _watching = new Set<string>();
  private _finished = new Signal<this, ITransfer>(this);
}

function finished(t: ITransfer): boolean {
  return !ACTIVE_STATES.has(t.state);
}

/** Listed after `last`: newest first, by creation time and then id (as the registry). */
function olderThan(t: ITransfer, last: ITransfer): boolean {
  const a = t.created_at ?? '';
  const b = last.created_at ?? '';
  return a < b || (a === b && t.id < last.id);
}
