/**
 * HTTP calls to the server extension. Failures become `FermiApiError` with the server's own
 * `message` and `reason`, or a message saying what to do when the extension is missing.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import {
  FermiApiError,
  IDataset,
  IDatasetCreate,
  IDatasetCreated,
  IDatasetPatch,
  IDatasetQuery,
  IDiff,
  IFermiApi,
  ICredential,
  ICredentialCreate,
  IFolderSummary,
  IInfo,
  IJob,
  ILineage,
  IMountList,
  IPage,
  ITransfer,
  ITransferCreate,
  ITransferLog,
  ITree,
  ITreeQuery,
  IVersion,
  IVersionCreate,
  IVolume
} from './tokens';

type Query = Record<string, string | number | null | undefined>;

function withQuery(path: string, query: Query = {}): string {
  const params = Object.entries(query)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return params.length ? `${path}?${params.join('&')}` : path;
}

function enc(ref: string): string {
  return encodeURIComponent(ref);
}

function versionPath(ref: string, selector: string | number): string {
  return `datasets/${enc(ref)}/versions/${enc(String(selector))}`;
}

/** One call to `{base_url}api/fermi/<path>`; JSON in, JSON out. */
export async function requestAPI<T>(
  path: string,
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, 'api', 'fermi', path);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    if ((error as Error)?.name === 'AbortError') {
      throw error;
    }
    throw new FermiApiError(
      'The Jupyter server cannot be reached. Check your connection, then try again.',
      0,
      'network'
    );
  }
  const text = await response.text();
  let data: unknown = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const body = (data ?? {}) as { message?: string; reason?: string };
    if (response.status === 404 && data === null) {
      throw new FermiApiError(
        'The fermi_jupyter server extension is not running in this Jupyter server. ' +
          'Ask your administrator to install fermi_jupyter in the server image.',
        404,
        'no-extension'
      );
    }
    throw new FermiApiError(
      body.message || response.statusText || `HTTP ${response.status}`,
      response.status,
      body.reason || ''
    );
  }
  return data as T;
}

/** The `IFermiApi` of a Jupyter server. */
export class FermiApi implements IFermiApi {
  constructor(
    readonly settings: ServerConnection.ISettings = ServerConnection.makeSettings()
  ) {}

  private get<T>(path: string, query?: Query, signal?: AbortSignal): Promise<T> {
    return requestAPI<T>(
      withQuery(path, query),
      { method: 'GET', signal },
      this.settings
    );
  }

  private send<T>(method: string, path: string, body?: unknown): Promise<T> {
    return requestAPI<T>(
      path,
      { method, body: body === undefined ? undefined : JSON.stringify(body) },
      this.settings
    );
  }

  info(): Promise<IInfo> {
    return this.get('info');
  }

  mounts(): Promise<IMountList> {
    return this.get('mounts');
  }

  volumes(query: { q?: string; cursor?: string | null } = {}): Promise<IPage<IVolume>> {
    return this.get('volumes', { q: query.q, cursor: query.cursor, limit: 200 });
  }

  volume(volumeId: string): Promise<IVolume> {
    return this.get(`volumes/${enc(volumeId)}`);
  }

  tree(volumeId: string, path: string, query: ITreeQuery = {}): Promise<ITree> {
    return this.get(
      `volumes/${enc(volumeId)}/tree`,
      { path, q: query.q, cursor: query.cursor, limit: query.limit ?? 200 },
      query.signal
    );
  }

  summary(volumeId: string, path: string): Promise<IFolderSummary> {
    return this.get(`volumes/${enc(volumeId)}/summary`, { path });
  }

  datasets(query: IDatasetQuery = {}): Promise<IPage<IDataset>> {
    return this.get('datasets', {
      q: query.q,
      scope: query.scope === 'all' ? undefined : query.scope,
      cursor: query.cursor,
      limit: query.limit ?? 200
    });
  }

  createDataset(body: IDatasetCreate): Promise<IDatasetCreated> {
    return this.send('POST', 'datasets', body);
  }

  updateDataset(ref: string, patch: IDatasetPatch): Promise<IDataset> {
    return this.send('PATCH', `datasets/${enc(ref)}`, patch);
  }

  versions(ref: string, cursor?: string | null): Promise<IPage<IVersion>> {
    return this.get(`datasets/${enc(ref)}/versions`, { cursor, limit: 100 });
  }

  version(ref: string, selector: string | number): Promise<IVersion> {
    return this.get(`datasets/${enc(ref)}/versions/${enc(String(selector))}`);
  }

  registerVersion(ref: string, body: IVersionCreate): Promise<IVersion> {
    return this.send('POST', `datasets/${enc(ref)}/versions`, body);
  }

  cancelVersion(ref: string, selector: string | number): Promise<IJob> {
    return this.send('POST', `${versionPath(ref, selector)}/cancel`, {});
  }

  async deleteVersion(ref: string, selector: string | number): Promise<void> {
    await this.send('DELETE', versionPath(ref, selector));
  }

  verify(ref: string, selector: string | number): Promise<IJob> {
    return this.send('POST', `${versionPath(ref, selector)}/verify`, {});
  }

  restore(
    ref: string,
    selector: string | number,
    target: { path: string; volume_id?: string }
  ): Promise<IJob> {
    return this.send('POST', `${versionPath(ref, selector)}/restore`, target);
  }

  diff(
    ref: string,
    selector: string | number,
    against: string | number
  ): Promise<IDiff> {
    return this.get(`${versionPath(ref, selector)}/diff`, { against, limit: 200 });
  }

  lineage(ref: string, selector: string | number): Promise<ILineage> {
    return this.get(`${versionPath(ref, selector)}/lineage`);
  }

  jobs(query: { state?: string; cursor?: string | null } = {}): Promise<IPage<IJob>> {
    return this.get('jobs', { state: query.state, cursor: query.cursor, limit: 100 });
  }

  transfers(
    query: { state?: string; cursor?: string | null; limit?: number } = {}
  ): Promise<IPage<ITransfer>> {
    return this.get('transfers', {
      state: query.state,
      cursor: query.cursor,
      limit: query.limit ?? 50
    });
  }

  transfer(id: string): Promise<ITransfer> {
    return this.get(`transfers/${enc(id)}`);
  }

  createTransfer(body: ITransferCreate): Promise<ITransfer> {
    return this.send('POST', 'transfers', body);
  }

  cancelTransfer(id: string): Promise<ITransfer> {
    return this.send('DELETE', `transfers/${enc(id)}`);
  }

  transferLog(id: string, offset = 0): Promise<ITransferLog> {
    return this.get(`transfers/${enc(id)}/log`, { offset });
  }

  credentials(): Promise<{ items: ICredential[] }> {
    return this.get('credentials');
  }

  createCredential(body: ICredentialCreate): Promise<ICredential> {
    return this.send('POST', 'credentials', body);
  }

  async deleteCredential(name: string): Promise<void> {
    await this.send('DELETE', `credentials/${enc(name)}`);
  }

  eventsUrl(lastEventId?: string | null): string {
    // EventSource cannot send headers: a token-authenticated server gets the token in the
    // query; a JupyterHub server (which refuses tokens in URLs) authenticates the cookie and
    // wants the XSRF value beside it, as a header would carry it
    return withQuery(URLExt.join(this.settings.baseUrl, 'api', 'fermi', 'events'), {
      token: this.settings.token || undefined,
      _xsrf: xsrfCookie(),
      last_event_id: lastEventId
    });
  }
}

/** The `_xsrf` cookie Jupyter servers set, if any (not in tests without a document). */
export function xsrfCookie(): string | undefined {
  if (typeof document === 'undefined') {
    return undefined;
  }
  const match = document.cookie.match(/(?:^|;\s*)_xsrf=([^;]*)/);
  return match ? decodeURIComponent(match[1]) : undefined;
}
