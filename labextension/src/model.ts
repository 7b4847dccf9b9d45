/**
 * The sidebar's state: what is mounted here, your volumes, the datasets you can see and the
 * versions of the ones you opened. Views render it; events and user actions change it.
 */
import { VDomModel } from '@jupyterlab/apputils';
import { Debouncer } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import {
  FermiApiError,
  IDataset,
  IErrorBody,
  IFermiApi,
  IInfo,
  IMount,
  IVersion,
  IVersionEvent,
  IVolume,
  Scope
} from './tokens';

/** One list loaded from the server, with what went wrong if it failed. */
export interface IListState<T> {
  items: T[];
  loading: boolean;
  error: string | null;
  /** the first page has arrived (distinguishes "empty" from "not loaded yet") */
  loaded: boolean;
  next: string | null;
}

export interface IVersionChange {
  version: IVersion;
  previous: string | null;
}

function emptyList<T>(): IListState<T> {
  return { items: [], loading: false, error: null, loaded: false, next: null };
}

export function errorMessage(error: unknown): string {
  if (error instanceof FermiApiError || error instanceof Error) {
    return error.message;
  }
  return String(error);
}

const ACTIVE = new Set(['pending', 'processing']);

export class DataModel extends VDomModel {
  constructor(options: DataModel.IOptions) {
    super();
    this.api = options.api;
    this.pageSize = options.pageSize ?? 200;
    this._searchDebouncer = new Debouncer(
      () => this.refreshDatasets(),
      options.debounce ?? 250
    );
    this._resyncDebouncer = new Debouncer(() => this.refresh(), 300);
  }

  readonly api: IFermiApi;
  /** datasets per request */
  readonly pageSize: number;

  /** who this server acts as, and whether the registry answers */
  info: IInfo | null = null;
  /** why mount statuses are missing, when the registry could not be asked */
  registryError: IErrorBody | null = null;
  mounts: IListState<IMount> = emptyList();
  volumes: IListState<IVolume> = emptyList();
  datasets: IListState<IDataset> = emptyList();
  /** versions of the datasets opened in the list, by dataset id */
  versions = new Map<string, IListState<IVersion>>();
  expanded = new Set<string>();
  query = '';
  scope: Scope = 'all';

  /** A version changed status (not on the first load). */
  get versionChanged(): ISignal<this, IVersionChange> {
    return this._versionChanged;
  }

  /** A volume's content changed from here (a download into it completed): its open folders
   * are read again. */
  get volumeChanged(): ISignal<this, string> {
    return this._volumeChanged;
  }

  /** Data landed in volume `id` (or in a new volume, `id` null): show it. */
  volumeTouched(id: string | null): void {
    if (id) {
      this._volumeChanged.emit(id);
    }
    // a listed volume is asked for alone, which measures its usage now (the list's figures
    // may be a minute old); a new one brings the list again
    if (id && this.volumes.items.some(v => v.id === id)) {
      void this.refreshVolume(id);
    } else {
      void this.refreshVolumes();
    }
  }

  /** One volume again, in its place in the list: its usage as it is now. */
  async refreshVolume(id: string): Promise<void> {
    try {
      const fresh = await this.api.volume(id);
      const items = this.volumes.items.map(v => (v.id === id ? fresh : v));
      this.volumes = { ...this.volumes, items };
      this.stateChanged.emit();
    } catch {
      await this.refreshVolumes(); // gone, or the server is away: the list says what is wrong
    }
  }

  /** Registrations in progress that this tab knows of. */
  get running(): IVersion[] {
    return [...this._active.values()];
  }

  /** Everything, again: used at start, after a reconnect and when the tab is shown. */
  async refresh(): Promise<void> {
    await Promise.all([
      this.refreshInfo(),
      this.refreshMounts(),
      this.refreshVolumes(),
      this.refreshDatasets(),
      ...[...this.expanded].map(id => this.loadVersions(id))
    ]);
  }

  /** Debounced `refresh`, for bursts of resync requests. */
  requestResync(): void {
    void this._resyncDebouncer.invoke();
  }

  async refreshInfo(): Promise<void> {
    try {
      this.info = await this.api.info();
    } catch {
      this.info = null; // the lists below say what is wrong
    }
    this.stateChanged.emit();
  }

  /**
   * Whether the current user owns `ds` (only owners change or delete). When the server does
   * not say who it acts as, the actions are offered and the server decides.
   */
  owns(ds: IDataset | undefined): boolean {
    if (!ds) {
      return false;
    }
    return !this.info?.user || ds.owner === this.info.user;
  }

  async refreshMounts(): Promise<void> {
    this.mounts = { ...this.mounts, loading: true };
    this.stateChanged.emit();
    try {
      const list = await this.api.mounts();
      this.registryError = list.registry_error;
      this.mounts = {
        items: list.items,
        loading: false,
        error: null,
        loaded: true,
        next: null
      };
    } catch (e) {
      this.mounts = {
        ...this.mounts,
        loading: false,
        error: errorMessage(e),
        loaded: true
      };
    }
    this.stateChanged.emit();
  }

  async refreshVolumes(): Promise<void> {
    this.volumes = { ...this.volumes, loading: true };
    this.stateChanged.emit();
    try {
      const page = await this.api.volumes();
      this.volumes = {
        items: page.items,
        loading: false,
        error: null,
        loaded: true,
        next: page.next_cursor ?? null
      };
    } catch (e) {
      this.volumes = {
        ...this.volumes,
        loading: false,
        error: errorMessage(e),
        loaded: true
      };
    }
    this.stateChanged.emit();
  }

  async refreshDatasets(): Promise<void> {
    const ticket = ++this._datasetTicket;
    this.datasets = { ...this.datasets, loading: true };
    this.stateChanged.emit();
    try {
      const page = await this.api.datasets({
        q: this.query,
        scope: this.scope,
        limit: this.pageSize
      });
      if (ticket !== this._datasetTicket) {
        return; // a newer search answered or will answer
      }
      this.datasets = {
        items: page.items,
        loading: false,
        error: null,
        loaded: true,
        next: page.next_cursor ?? null
      };
    } catch (e) {
      if (ticket !== this._datasetTicket) {
        return;
      }
      this.datasets = {
        ...this.datasets,
        loading: false,
        error: errorMessage(e),
        loaded: true
      };
    }
    this.stateChanged.emit();
  }

  async loadMoreDatasets(): Promise<void> {
    const cursor = this.datasets.next;
    if (!cursor || this.datasets.loading) {
      return;
    }
    const ticket = this._datasetTicket;
    this.datasets = { ...this.datasets, loading: true };
    this.stateChanged.emit();
    try {
      const page = await this.api.datasets({
        q: this.query,
        scope: this.scope,
        cursor,
        limit: this.pageSize
      });
      if (ticket !== this._datasetTicket) {
        return;
      }
      this.datasets = {
        items: [...this.datasets.items, ...page.items],
        loading: false,
        error: null,
        loaded: true,
        next: page.next_cursor ?? null
      };
    } catch (e) {
      this.datasets = { ...this.datasets, loading: false, error: errorMessage(e) };
    }
    this.stateChanged.emit();
  }

  /** Search as you type: the request waits until typing pauses. */
  setQuery(query: string): void {
    this.query = query;
    this.stateChanged.emit();
    void this._searchDebouncer.invoke();
  }

  setScope(scope: Scope): void {
    this.scope = scope;
    void this.refreshDatasets();
  }

  async toggle(datasetId: string): Promise<void> {
    if (this.expanded.has(datasetId)) {
      this.expanded.delete(datasetId);
      this.stateChanged.emit();
      return;
    }
    this.expanded.add(datasetId);
    await this.loadVersions(datasetId);
  }

  async loadVersions(datasetId: string): Promise<void> {
    const old = this.versions.get(datasetId) ?? emptyList<IVersion>();
    this.versions.set(datasetId, { ...old, loading: true });
    this.stateChanged.emit();
    try {
      const page = await this.api.versions(datasetId);
      const items = page.items
        .map(v => this._track(v, false))
        .sort((a, b) => b.number - a.number);
      this.versions.set(datasetId, {
        items,
        loading: false,
        error: null,
        loaded: true,
        next: page.next_cursor ?? null
      });
    } catch (e) {
      this.versions.set(datasetId, { ...old, loading: false, error: errorMessage(e) });
    }
    this.stateChanged.emit();
  }

  /** The version before `v` in its dataset's loaded list (for "diff against previous"). */
  previousOf(v: IVersion): IVersion | null {
    const list = this.versions.get(v.dataset_id)?.items ?? [];
    return (
      list
        .filter(x => x.number < v.number)
        .sort((a, b) => b.number - a.number)
        .find(x => x.status === 'ready' || x.status === 'drifted') ?? null
    );
  }

  datasetById(id: string): IDataset | undefined {
    return this.datasets.items.find(d => d.id === id);
  }

  /** A version the user just registered: shown at once, before its first event. */
  addVersion(v: IVersion): void {
    this._upsert(this._track(v, false));
    if (!this.datasetById(v.dataset_id)) {
      void this.refreshDatasets();
    }
    this.stateChanged.emit();
  }

  /** Applies one event from the stream. */
  applyEvent(event: IVersionEvent): void {
    if (!event.dataset_id || typeof event.number !== 'number') {
      return;
    }
    if (ACTIVE.has(event.status) && this._finished.has(event.ref)) {
      return; // finished versions never run again: this event is older than what we know
    }
    const known = this._findVersion(event.dataset_id, event.number);
    const previous = known?.status ?? this._active.get(event.ref)?.status ?? null;
    const base = known ?? this._active.get(event.ref);
    const name = event.dataset_name ?? base?.dataset_name ?? null;
    const version: IVersion = {
      mode: 'snapshot',
      mounted_here: false,
      ...base,
      label: `${name ?? event.dataset_id}@${event.number}`,
      dataset_id: event.dataset_id,
      dataset_name: name,
      number: event.number,
      ref: event.ref,
      status: event.status,
      error: event.error ?? null,
      progress: event.progress ??
        base?.progress ?? {
          files_done: 0,
          files_total: null,
          bytes_done: 0,
          bytes_total: null
        }
    };
    this._track(version, true, previous);
    this._upsert(version);
    const ds = this.datasetById(event.dataset_id);
    if (!ds) {
      // a dataset this list has not seen (made in another tab, or just now)
      void this._resyncDebouncer.invoke();
    } else if (event.status === 'ready' && (ds.latest ?? 0) < event.number) {
      ds.latest = event.number;
    }
    if (
      ACTIVE.has(event.status) === false &&
      previous !== null &&
      previous !== event.status
    ) {
      // a finished version may carry fields the event does not (size, files): fetch it
      if (this.expanded.has(event.dataset_id)) {
        void this._refetchVersion(event.dataset_id, event.number);
      }
    }
    this.stateChanged.emit();
  }

  override dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._searchDebouncer.dispose();
    this._resyncDebouncer.dispose();
    super.dispose();
  }

  private async _refetchVersion(datasetId: string, number: number): Promise<void> {
    try {
      const v = await this.api.version(datasetId, number);
      this._upsert(v);
      this.stateChanged.emit();
    } catch {
      // the event already gave the status; the details can wait for the next refresh
    }
  }

  private _findVersion(datasetId: string, number: number): IVersion | undefined {
    return this.versions.get(datasetId)?.items.find(v => v.number === number);
  }

  private _upsert(v: IVersion): void {
    const state = this.versions.get(v.dataset_id);
    if (!state) {
      return;
    }
    const items = state.items.filter(x => x.number !== v.number);
    items.push(v);
    items.sort((a, b) => b.number - a.number);
    this.versions.set(v.dataset_id, { ...state, items: withLatest(items) });
  }

  /**
   * Records `v`'s status and tells listeners when it changed. From an event (`live`), the
   * change is against `previous`; from a list, against what this tab saw running, since a
   * list that arrives before the event may be the first to show a registration finished.
   * Returns the version to show: a list asked for before a version's last event may still
   * call it running, and a finished version never runs again.
   */
  private _track(v: IVersion, live: boolean, previous: string | null = null): IVersion {
    const finished = this._finished.get(v.ref);
    if (ACTIVE.has(v.status) && finished) {
      return finished;
    }
    const running = this._active.get(v.ref)?.status ?? null;
    if (ACTIVE.has(v.status)) {
      this._active.set(v.ref, v);
    } else {
      this._active.delete(v.ref);
      this._finished.set(v.ref, v);
    }
    const before = live ? previous : running;
    if ((live || running !== null) && before !== v.status) {
      this._versionChanged.emit({ version: v, previous: before });
    }
    return v;
  }

  private _active = new Map<string, IVersion>();
  /** versions seen finished, by ref */
  private _finished = new Map<string, IVersion>();
  private _datasetTicket = 0;
  private _searchDebouncer: Debouncer;
  private _resyncDebouncer: Debouncer;
  private _versionChanged = new Signal<this, IVersionChange>(this);
  private _volumeChanged = new Signal<this, string>(this);
}

export namespace DataModel {
  export interface IOptions {
    api: IFermiApi;
    /** datasets per request (default 200) */
    pageSize?: number;
    /** milliseconds the dataset search waits for typing to pause */
    debounce?: number;
  }
}

/**
 * `latest` names the newest ready version (the registry adds it to that version's aliases):
 * a version that turns ready here takes it from the one before, which this list fetched when
 * it was the newest. `items` are newest first.
 */
function withLatest(items: IVersion[]): IVersion[] {
  const newest = items.find(x => x.status === 'ready')?.number;
  return items.map(x => {
    const has = x.aliases?.includes('latest') ?? false;
    const should = x.number === newest;
    if (has === should) {
      return x;
    }
    const rest = (x.aliases ?? []).filter(a => a !== 'latest');
    return { ...x, aliases: should ? ['latest', ...rest] : rest };
  });
}
