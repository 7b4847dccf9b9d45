/**
 * One volume's directory, browsed a page at a time: the server stats only the page asked for,
 * the view renders only the rows on screen. A name search reaches sub folders and can be
 * cancelled (the request is aborted).
 */
import { VDomModel } from '@jupyterlab/apputils';

import { errorMessage } from './model';
import { IFermiApi, ITreeEntry } from './tokens';

export class DirectoryModel extends VDomModel {
  constructor(options: DirectoryModel.IOptions) {
    super();
    this.api = options.api;
    this.volumeId = options.volumeId;
    this.pageSize = options.pageSize ?? 200;
    this.path = options.path ?? '';
  }

  readonly api: IFermiApi;
  readonly volumeId: string;
  readonly pageSize: number;

  /** the folder shown, relative to the volume root ('' is the root) */
  path: string;
  entries: ITreeEntry[] = [];
  next: string | null = null;
  loading = false;
  loaded = false;
  error: string | null = null;
  /** the name search shown instead of the folder, if any */
  query = '';
  /** the server stopped a search early (too many entries looked at) */
  truncated = false;
  /** the folder chosen (the wizard's step 2) */
  selected: string | null = null;

  get searching(): boolean {
    return this.query !== '' && this.loading;
  }

  /** Breadcrumbs of `path`: [['', root], ['a', 'a'], ['a/b', 'b']]. */
  get crumbs(): Array<[string, string]> {
    const parts = this.path.split('/').filter(Boolean);
    return parts.map((name, i) => [parts.slice(0, i + 1).join('/'), name]);
  }

  /** Shows folder `path` (and clears any search). */
  async open(path: string): Promise<void> {
    this._abort();
    this.path = path.replace(/^\/+|\/+$/g, '');
    this.query = '';
    this._reset();
    await this._load();
  }

  async reload(): Promise<void> {
    this._abort();
    this._reset();
    await this._load();
  }

  /** The next page, when the view scrolls near the end of what is loaded. */
  async loadMore(): Promise<void> {
    if (this.loading || !this.next) {
      return;
    }
    await this._load(this.next);
  }

  /** Searches names below the current folder; '' goes back to the listing. */
  async search(query: string): Promise<void> {
    this._abort();
    this.query = query.trim();
    this._reset();
    await this._load();
  }

  /** Stops a running search; what was found so far stays. */
  cancel(): void {
    if (this._controller) {
      this._abort();
      this.loading = false;
      this.next = null;
      this.stateChanged.emit();
    }
  }

  select(path: string | null): void {
    this.selected = path;
    this.stateChanged.emit();
  }

  override dispose(): void {
    this._abort();
    super.dispose();
  }

  private _reset(): void {
    this.entries = [];
    this.next = null;
    this.loaded = false;
    this.error = null;
    this.truncated = false;
  }

  private _abort(): void {
    this._controller?.abort();
    this._controller = null;
  }

  private async _load(cursor: string | null = null): Promise<void> {
    const controller = new AbortController();
    this._controller = controller;
    this.loading = true;
    this.stateChanged.emit();
    try {
      const page = await this.api.tree(this.volumeId, this.path, {
        q: this.query || undefined,
        cursor,
        limit: this.pageSize,
        signal: controller.signal
      });
      if (controller.signal.aborted || this.isDisposed) {
        return;
      }
      this.entries = cursor ? [...this.entries, ...page.items] : page.items;
      this.next = page.next_cursor ?? null;
      this.truncated = !!page.truncated;
      this.error = null;
    } catch (e) {
      if (
        controller.signal.aborted ||
        (e as Error)?.name === 'AbortError' ||
        this.isDisposed
      ) {
        return;
      }
      this.error = errorMessage(e);
    } finally {
      if (this._controller === controller) {
        this._controller = null;
        this.loading = false;
        this.loaded = true;
      }
    }
    if (!this.isDisposed) {
      this.stateChanged.emit();
    }
  }

  private _controller: AbortController | null = null;
}

export namespace DirectoryModel {
  export interface IOptions {
    api: IFermiApi;
    volumeId: string;
    path?: string;
    pageSize?: number;
  }
}
