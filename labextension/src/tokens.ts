/**
 * Shared names and the shapes of the server extension's JSON (`{base_url}api/fermi/…`).
 *
 * The shapes follow `fermi_jupyter/server/openapi.json`; fields the sidebar does not read are
 * left out, unknown ones are passed through untouched.
 */
import { Token } from '@lumino/coreutils';

/** The translation domain, shared with the spawn form (`fermi_jupyter/locale`). */
export const DOMAIN = 'fermi_jupyter';

/** Plugin ids. The settings schema of the sidebar is `schema/sidebar.json`. */
export namespace PluginIDs {
  export const sidebar = 'fermi-jupyter:sidebar';
  export const status = 'fermi-jupyter:status';
  export const api = 'fermi-jupyter:api';
}

export enum CommandIDs {
  openPanel = 'fermi-jupyter:open-panel',
  createDataset = 'fermi-jupyter:create-dataset',
  registerFolder = 'fermi-jupyter:register-folder',
  openMount = 'fermi-jupyter:open-mount',
  importData = 'fermi-jupyter:import-data',
  credentials = 'fermi-jupyter:credentials',
  refresh = 'fermi-jupyter:refresh'
}

export type MountKind = 'dataset' | 'volume';

export type VersionStatus =
  'pending' | 'processing' | 'ready' | 'failed' | 'drifted' | 'cancelled';
export type Visibility = 'private' | 'team' | 'org' | 'public';
export type DataType = 'text' | 'image' | 'audio' | 'video' | 'mixed' | 'other';
export type VolumeType = 'ssd' | 'hdd' | 'shared';
export type Mode = 'snapshot' | 'reference';
export type Scope = 'all' | 'mine' | 'team' | 'org' | 'public';

/** `{message, reason}`: every refusal of the API. */
export interface IErrorBody {
  message: string;
  reason: string;
}

/** GET info */
export interface IInfo {
  version: string;
  user?: string | null;
  registry_configured: boolean;
  registry_reachable: boolean;
  registry_error?: IErrorBody | null;
  mounts: number;
  stall_after?: number;
}

/** An entry of GET mounts. */
export interface IMount {
  kind: MountKind;
  mount_path: string;
  read_only: boolean;
  label: string;
  /** a dataset mount's version status; null for volumes or when the registry cannot be asked */
  status: VersionStatus | null;
  /** the mount path exists in this server */
  present: boolean;
  /** the mount as a path of Lab's file browser; null when the browser cannot reach it */
  browser_path: string | null;
  ref?: string | null;
  dataset_id?: string | null;
  dataset_name?: string | null;
  dataset_owner?: string | null;
  version?: number | null;
  volume_id?: string | null;
  volume_name?: string | null;
  sub_path?: string;
}

export interface IMountList {
  items: IMount[];
  registry_error: IErrorBody | null;
}

export interface IUsage {
  bytes: number;
  files: number;
  computed_at?: string;
}

export interface IVolume {
  id: string;
  name: string;
  owner: string;
  team?: string | null;
  description?: string;
  capacity_bytes: number;
  type: VolumeType | string;
  /** which work this type suits, from the server (English) */
  type_hint?: string;
  access_mode?: string;
  zone?: string | null;
  backend?: 'root' | 'pvc';
  usage: IUsage | null;
  /** where this server mounts the volume; null when not mounted here */
  mount_path: string | null;
}

export interface IDataset {
  id: string;
  name: string;
  owner: string;
  team?: string | null;
  visibility: Visibility;
  data_type?: DataType | string;
  description?: string;
  zone?: string | null;
  tags: string[];
  /** newest ready version */
  latest: number | null;
  aliases: Record<string, number>;
  created_at?: string | null;
  updated_at?: string | null;
  /** version numbers this server mounts */
  mounted_here: number[];
}

export interface IProgress {
  files_done: number | null;
  files_total: number | null;
  bytes_done: number | null;
  bytes_total: number | null;
  rate_bytes_per_s?: number | null;
  rate_files_per_s?: number | null;
  eta_seconds?: number | null;
  updated_at?: string | null;
  /** set when progress has not moved for a while: the time it last moved */
  stalled_since?: string | null;
}

export interface IVersion {
  dataset_id: string;
  dataset_name?: string | null;
  number: number;
  ref: string;
  label: string;
  status: VersionStatus;
  mode: Mode;
  source?: { volume_id?: string | null; path?: string | null };
  message?: string;
  error?: string | null;
  progress: IProgress;
  files?: number | null;
  bytes?: number | null;
  new_bytes?: number | null;
  digest?: string | null;
  warnings?: string[];
  parents?: string[];
  aliases?: string[];
  mounted?: boolean | null;
  mounted_here: boolean;
  created_by?: string;
  created_at?: string | null;
  ready_at?: string | null;
  verified_at?: string | null;
}

export interface IPage<T> {
  items: T[];
  next_cursor: string | null;
}

export type EntryType = 'dir' | 'file' | 'symlink' | 'other';

export interface ITreeEntry {
  name: string;
  /** relative to the volume root */
  path: string;
  type: EntryType;
  size: number | null;
  mtime: number | null;
}

export interface ITree extends IPage<ITreeEntry> {
  volume_id: string;
  path: string;
  q?: string | null;
  source: 'local' | 'registry';
  mount_path?: string | null;
  /** a search stopped at its scan budget: next_cursor resumes it */
  truncated: boolean;
}

export interface IFolderSummary {
  volume_id: string;
  path: string;
  files: number;
  dirs?: number;
  bytes: number;
  extensions?: Record<string, number>;
  suggested_data_type: DataType;
  truncated: boolean;
}

export interface IJob {
  id: number;
  kind: 'register' | 'verify' | 'restore';
  state: 'queued' | 'running' | 'cancelling' | 'done' | 'failed' | 'cancelled';
  version: string | null;
  params?: Record<string, unknown>;
  result?: Record<string, unknown> | null;
  error?: string | null;
  progress: IProgress;
  created_at?: string | null;
  finished_at?: string | null;
}

export interface IFileSize {
  path: string;
  size: number;
}

export interface IDiff {
  base: string;
  target: string;
  added: IFileSize[];
  removed: IFileSize[];
  changed: Array<{ path: string; size_before: number; size_after: number }>;
  counts: { added: number; removed: number; changed: number; unchanged: number };
  truncated: boolean;
}

export interface ILineageNode {
  ref: string;
  label: string;
  dataset_id: string;
  number: number;
  status: VersionStatus | null;
  /** false: a parent you may not see (only its ref is shown) */
  visible: boolean;
}

export interface ILineage {
  version: ILineageNode;
  parents: ILineageNode[];
  children: ILineageNode[];
}

/** POST datasets/{ref}/versions, and `version` of POST datasets. */
export interface IVersionCreate {
  /** relative to the volume's root when volume_id is given */
  path: string;
  volume_id?: string;
  mode?: Mode;
  message?: string;
}

/** POST datasets: a new dataset, with version 1 from a folder. */
export interface IDatasetCreate {
  name: string;
  description?: string;
  tags?: string[];
  visibility?: Visibility;
  team?: string;
  data_type?: DataType;
  zone?: string;
  version?: IVersionCreate;
}

export interface IDatasetCreated {
  dataset: IDataset;
  version: IVersion | null;
}

/** PATCH datasets/{ref}: only the fields given change. */
export interface IDatasetPatch {
  visibility?: Visibility;
  team?: string | null;
  tags?: string[];
  description?: string;
  data_type?: DataType;
  zone?: string | null;
  name?: string;
}

export interface IDatasetQuery {
  q?: string;
  scope?: Scope;
  limit?: number;
  cursor?: string | null;
}

export interface ITreeQuery {
  q?: string;
  cursor?: string | null;
  limit?: number;
  signal?: AbortSignal;
}

/** data of `event: version` */
export interface IVersionEvent {
  dataset_id: string;
  dataset_name?: string | null;
  number: number;
  ref: string;
  status: VersionStatus;
  error?: string | null;
  progress?: IProgress;
  job_id?: number;
  job_kind?: string;
  job_state?: string;
  seq?: number;
}

export type TransferTool = 'git' | 'huggingface' | 's3';
export type TransferState = 'pending' | 'running' | 'complete' | 'failed' | 'cancelled';

/** Where a transfer reads from or writes to (docs/user/transfers.md). */
export interface ITransferPlace {
  type: TransferTool | 'volume' | 'dataset';
  [field: string]: unknown;
}

export interface ITransferProgress {
  files_done: number | null;
  bytes_done: number | null;
  files_total: number | null;
  bytes_total: number | null;
}

export interface ITransferAttempt {
  attempt: number;
  started_at?: string | null;
  finished_at?: string | null;
  outcome?: string | null;
  reason?: string | null;
  message?: string | null;
}

export interface ITransfer {
  id: string;
  name?: string | null;
  direction: 'download' | 'upload';
  tool: TransferTool;
  source?: ITransferPlace;
  sink?: ITransferPlace;
  state: TransferState;
  reason?: string | null;
  error?: string | null;
  attempts: number;
  attempt_history?: ITransferAttempt[];
  policy?: ITransferPolicy | null;
  progress: ITransferProgress;
  result?: Record<string, unknown> | null;
  /** imports: the version registered ("ds-…@3") */
  version?: string | null;
  /** imports: the dataset asked for (a new one by name, or one of yours by id) */
  dataset?: ITransferDataset | null;
  created_at?: string | null;
  finished_at?: string | null;
}

/** DataCube's execution policy (docs/user/transfers.md#execution-policy). */
export interface ITransferPolicy {
  backoff_limit?: number;
  /** per attempt */
  active_deadline_seconds?: number | null;
  /** allow-listed per tool and direction by the registry */
  extra_args?: string[];
  env?: Record<string, string>;
  sync?: boolean;
}

/** Import as a dataset: a new one (name) or a new version of one of yours (id). */
export interface ITransferDataset {
  name?: string;
  id?: string;
  message?: string;
}

/** POST transfers */
export interface ITransferCreate {
  source: ITransferPlace;
  sink: ITransferPlace;
  policy?: ITransferPolicy;
  dataset?: ITransferDataset;
  name?: string;
}

/** data of `event: transfer` */
export interface ITransferEvent {
  id: string;
  state: TransferState;
  direction?: string;
  tool?: string;
  attempts?: number;
  reason?: string | null;
  error?: string | null;
  progress?: ITransferProgress;
  version?: string | null;
}

export interface ITransferLog {
  offset: number;
  next_offset: number;
  text: string;
}

/** A stored credential: its name, type and which fields are set, never a value. */
export interface ICredential {
  name: string;
  type: TransferTool;
  fields: string[];
  created_at?: string | null;
}

export interface ICredentialCreate {
  name: string;
  type: TransferTool;
  token?: string;
  username?: string;
  access_key_id?: string;
  secret_access_key?: string;
}

/**
 * Everything the sidebar asks the server. One implementation talks HTTP (`request.ts`);
 * tests pass their own.
 */
export interface IFermiApi {
  info(): Promise<IInfo>;
  mounts(): Promise<IMountList>;
  volumes(query?: { q?: string; cursor?: string | null }): Promise<IPage<IVolume>>;
  /** one volume, its usage measured now */
  volume(volumeId: string): Promise<IVolume>;
  tree(volumeId: string, path: string, query?: ITreeQuery): Promise<ITree>;
  summary(volumeId: string, path: string): Promise<IFolderSummary>;
  datasets(query?: IDatasetQuery): Promise<IPage<IDataset>>;
  createDataset(body: IDatasetCreate): Promise<IDatasetCreated>;
  updateDataset(ref: string, patch: IDatasetPatch): Promise<IDataset>;
  versions(ref: string, cursor?: string | null): Promise<IPage<IVersion>>;
  version(ref: string, selector: string | number): Promise<IVersion>;
  registerVersion(ref: string, body: IVersionCreate): Promise<IVersion>;
  cancelVersion(ref: string, selector: string | number): Promise<IJob>;
  deleteVersion(ref: string, selector: string | number): Promise<void>;
  verify(ref: string, selector: string | number): Promise<IJob>;
  restore(
    ref: string,
    selector: string | number,
    target: { path: string; volume_id?: string }
  ): Promise<IJob>;
  diff(
    ref: string,
    selector: string | number,
    against: string | number
  ): Promise<IDiff>;
  lineage(ref: string, selector: string | number): Promise<ILineage>;
  jobs(query?: { state?: string; cursor?: string | null }): Promise<IPage<IJob>>;
  transfers(query?: {
    state?: string;
    cursor?: string | null;
    limit?: number;
  }): Promise<IPage<ITransfer>>;
  transfer(id: string): Promise<ITransfer>;
  createTransfer(body: ITransferCreate): Promise<ITransfer>;
  cancelTransfer(id: string): Promise<ITransfer>;
  transferLog(id: string, offset?: number): Promise<ITransferLog>;
  credentials(): Promise<{ items: ICredential[] }>;
  createCredential(body: ICredentialCreate): Promise<ICredential>;
  deleteCredential(name: string): Promise<void>;
  /** the URL of the event stream (server-sent events) */
  eventsUrl(lastEventId?: string | null): string;
}

export const IFermiApi = new Token<IFermiApi>(
  'fermi-jupyter:IFermiApi',
  'Calls to the fermi_jupyter server extension.'
);

/** A failed call: the server's `message` and `reason` (`reason` is machine-readable). */
export class FermiApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly reason: string = ''
  ) {
    super(message);
    this.name = 'FermiApiError';
  }
}
