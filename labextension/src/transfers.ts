/**
 * The "Import data…" / "Export…" form's logic, without React: which fields each tool has,
 * what must be filled in before asking the server, the request bodies, and which field a
 * server refusal is about. docs/user/transfers.md has every field.
 */
import { TranslationBundle } from '@jupyterlab/translation';

import { CREDENTIAL_NAME, draftBody } from './credentials';
import {
  checkEnv,
  DeadlineUnit,
  deadlineSeconds,
  envRows,
  IEnvRow,
  MAX_RETRIES,
  splitArgs
} from './transferPolicy';
import {
  ICredential,
  ICredentialCreate,
  ITransfer,
  ITransferCreate,
  ITransferPlace,
  ITransferPolicy,
  ITransferProgress,
  TransferTool,
  VolumeType
} from './tokens';

export type Direction = 'download' | 'upload';
export type RepoType = 'model' | 'dataset' | 'space';

/** The local side: a folder of a volume, or (export only) a dataset version. */
export type LocalPlace =
  | { kind: 'volume'; volumeId: string; volumeName: string; path: string }
  | { kind: 'dataset'; version: string; label?: string };

/** Value of the credential picker that opens the inline "new credential" fields. */
export const NEW_CREDENTIAL = '+new';

/** Import as a dataset: not at all, as a new dataset, or as a new version of one of yours. */
export type DatasetMode = 'none' | 'new' | 'version';
/** Where a download goes: the folder the form was opened on, or a volume made with it. */
export type Into = 'folder' | 'newVolume';
export type { DeadlineUnit, IEnvRow };
export { MAX_RETRIES };
export interface ITransferForm {
  direction: Direction;
  tool: TransferTool;
  local: LocalPlace;
  /** git */
  url: string;
  ref: string;
  /** huggingface */
  repo: string;
  repoType: RepoType;
  revision: string;
  files: string;
  pathInRepo: string;
  commitMessage: string;
  /** s3 (endpoint is the Hub's for huggingface) */
  endpoint: string;
  uri: string;
  region: string;
  sync: boolean;
  noCheckBucket: boolean;
  /** a stored credential's name, '' for none, NEW_CREDENTIAL to add one here */
  credential: string;
  newName: string;
  token: string;
  username: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** downloads: register the result as a dataset (a new one, or a new version of one) */
  datasetMode: DatasetMode;
  datasetName: string;
  /** the dataset a new version is added to (datasetMode 'version') */
  datasetId: string;
  datasetMessage: string;
  /** downloads: into the folder, or into a volume created by the same request */
  into: Into;
  newVolumeName: string;
  newVolumeCapacity: string;
  newVolumeType: VolumeType;
  newVolumePath: string;
  /** execution policy */
  retries: number;
  /** deadline per attempt, in deadlineUnit; '' = none */
  deadline: string;
  deadlineUnit: DeadlineUnit;
  /** extra options for the tool, as typed: `--depth 1 --filter=blob:none` */
  extraArgs: string;
  env: IEnvRow[];
}

export type Field = keyof ITransferForm;
export type FieldErrors = Partial<Record<Field, string>>;

export function newForm(direction: Direction, local: LocalPlace): ITransferForm {
  return {
    direction,
    tool: local.kind === 'dataset' ? 'huggingface' : 'git',
    local,
    url: '',
    ref: '',
    repo: '',
    repoType: 'model',
    revision: '',
    files: '',
    pathInRepo: '',
    commitMessage: '',
    endpoint: '',
    uri: '',
    region: '',
    sync: false,
    noCheckBucket: false,
    credential: '',
    newName: '',
    token: '',
    username: '',
    accessKeyId: '',
    secretAccessKey: '',
    datasetMode: 'none',
    datasetName: '',
    datasetId: '',
    datasetMessage: '',
    into: 'folder',
    newVolumeName: '',
    newVolumeCapacity: '100Gi',
    newVolumeType: 'ssd',
    newVolumePath: '',
    retries: 0,
    deadline: '',
    deadlineUnit: 'minutes',
    extraArgs: '',
    env: []
  };
}

/** A download from a volume folder may instead go into a new volume. */
export function canCreateVolume(form: ITransferForm): boolean {
  return form.direction === 'download' && form.local.kind === 'volume';
}

/** Tools the form offers: a dataset version cannot be pushed to Git (it has no repository). */
export function toolsFor(form: ITransferForm): TransferTool[] {
  return form.local.kind === 'dataset'
    ? ['huggingface', 's3']
    : ['git', 'huggingface', 's3'];
}

export function credentialsFor(all: ICredential[], tool: TransferTool): ICredential[] {
  return all.filter(c => c.type === tool).sort((a, b) => a.name.localeCompare(b.name));
}

const HF_REPO = /^[^/\s]+\/[^/\s]+$/;
const DATASET_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const SIZE = /^\d+(\.\d+)?\s*([KMGT]i?)?B?$/i;

/** What must be fixed before the form may be sent (the server checks the rest). */
export function validate(form: ITransferForm, trans: TranslationBundle): FieldErrors {
  const errors: FieldErrors = {};
  const blank = (v: string) => v.trim() === '';
  if (form.tool === 'git') {
    if (blank(form.url)) {
      errors.url = trans.__('Enter the repository URL.');
    } else if (!/^(https?|git):\/\//.test(form.url.trim())) {
      errors.url = trans.__('The URL starts with https://, http:// or git://.');
    }
  } else if (form.tool === 'huggingface') {
    if (!HF_REPO.test(form.repo.trim())) {
      errors.repo = trans.__('Enter the repository as owner/name.');
    }
  } else if (!/^s3:\/\/[^/\s]+/.test(form.uri.trim())) {
    errors.uri = trans.__('Enter s3://bucket or s3://bucket/prefix.');
  }
  if (
    form.local.kind === 'volume' &&
    form.direction === 'download' &&
    form.local.path === ''
  ) {
    // allowed: the volume's root; nothing to check
  }
  if (form.credential === NEW_CREDENTIAL) {
    if (!CREDENTIAL_NAME.test(form.newName.trim())) {
      errors.newName = trans.__(
        'A credential name: letters, digits, “.”, “-” or “_”, starting with a letter or digit.'
      );
    }
    if (form.tool === 's3') {
      if (blank(form.accessKeyId)) {
        errors.accessKeyId = trans.__('Enter the access key ID.');
      }
      if (blank(form.secretAccessKey)) {
        errors.secretAccessKey = trans.__('Enter the secret access key.');
      }
    } else if (blank(form.token)) {
      errors.token = trans.__('Enter the token.');
    }
  }
  const down = form.direction === 'download';
  if (
    down &&
    form.datasetMode === 'new' &&
    !DATASET_NAME.test(form.datasetName.trim())
  ) {
    errors.datasetName = trans.__(
      'A dataset name: letters, digits, “.”, “-” or “_”, starting with a letter or digit.'
    );
  }
  if (down && form.datasetMode === 'version' && !form.datasetId) {
    errors.datasetId = trans.__('Choose the dataset that gets the new version.');
  }
  if (canCreateVolume(form) && form.into === 'newVolume') {
    if (blank(form.newVolumeName)) {
      errors.newVolumeName = trans.__('Enter a name for the new volume.');
    }
    if (!SIZE.test(form.newVolumeCapacity.trim())) {
      errors.newVolumeCapacity = trans.__('A size such as 100Gi or 500GB.');
    }
  }
  if (
    !Number.isInteger(form.retries) ||
    form.retries < 0 ||
    form.retries > MAX_RETRIES
  ) {
    errors.retries = trans.__('Retries: a whole number from 0 to %1.', MAX_RETRIES);
  }
  if (
    form.deadline.trim() !== '' &&
    deadlineSeconds(form.deadline, form.deadlineUnit) === null
  ) {
    errors.deadline = trans.__(
      'A whole number, at most 7 days in all (or leave it empty for no limit).'
    );
  }
  if (splitArgs(form.extraArgs) === null) {
    errors.extraArgs = trans.__('A quote is not closed.');
  }
  const envError = checkEnv(form.env, trans);
  if (envError) {
    errors.env = envError;
  }
  return errors;
}

/** The credential the transfer names: the picked one, or the new one once stored. */
export function credentialName(form: ITransferForm): string {
  return form.credential === NEW_CREDENTIAL ? form.newName.trim() : form.credential;
}

/** The body of POST credentials for an inline new credential, else null. */
export function credentialBody(form: ITransferForm): ICredentialCreate | null {
  if (form.credential !== NEW_CREDENTIAL) {
    return null;
  }
  return draftBody({
    name: form.newName,
    type: form.tool,
    token: form.token,
    username: form.username,
    accessKeyId: form.accessKeyId,
    secretAccessKey: form.secretAccessKey
  });
}

/** The remote side, with only the fields that are filled in and apply to the direction. */
export function remotePlace(form: ITransferForm): ITransferPlace {
  const place: ITransferPlace = { type: form.tool };
  const set = (key: string, value: string) => {
    if (value.trim()) {
      place[key] = value.trim();
    }
  };
  const up = form.direction === 'upload';
  if (form.tool === 'git') {
    set('url', form.url);
    set('ref', form.ref);
  } else if (form.tool === 'huggingface') {
    set('repo', form.repo);
    if (form.repoType !== 'model') {
      place.repo_type = form.repoType;
    }
    set('revision', form.revision);
    set('endpoint', form.endpoint);
    if (up) {
      set('path_in_repo', form.pathInRepo);
      set('commit_message', form.commitMessage);
    } else {
      const files = splitPatterns(form.files);
      if (files.length) {
        place.files = files;
      }
    }
  } else {
    set('uri', form.uri);
    set('endpoint', form.endpoint);
    set('region', form.region);
    if (up && form.noCheckBucket) {
      place.no_check_bucket = true;
    }
  }
  set('credential', credentialName(form));
  return place;
}

export function localPlace(local: LocalPlace): ITransferPlace {
  return local.kind === 'volume'
    ? { type: 'volume', volume_id: local.volumeId, path: local.path }
    : { type: 'dataset', version: local.version };
}

/** The volume side of a download into a volume created by the same request. */
export function newVolumePlace(form: ITransferForm): ITransferPlace {
  return {
    type: 'volume',
    path: form.newVolumePath.trim().replace(/^\/+|\/+$/g, ''),
    create_volume: {
      name: form.newVolumeName.trim(),
      capacity: form.newVolumeCapacity.trim().replace(/\s+/g, ''),
      type: form.newVolumeType
    }
  };
}

export function transferBody(form: ITransferForm): ITransferCreate {
  const remote = remotePlace(form);
  const down = form.direction === 'download';
  const local =
    canCreateVolume(form) && form.into === 'newVolume'
      ? newVolumePlace(form)
      : localPlace(form.local);
  const body: ITransferCreate = down
    ? { source: remote, sink: local }
    : { source: local, sink: remote };
  const policy: ITransferPolicy = {};
  if (form.retries > 0) {
    policy.backoff_limit = form.retries;
  }
  const deadline = deadlineSeconds(form.deadline, form.deadlineUnit);
  if (deadline) {
    policy.active_deadline_seconds = deadline;
  }
  const args = splitArgs(form.extraArgs) ?? [];
  if (args.length) {
    policy.extra_args = args;
  }
  const env = envRows(form.env);
  if (env.length) {
    policy.env = Object.fromEntries(env.map(r => [r.name, r.value]));
  }
  if (down && form.tool === 's3' && form.sync) {
    policy.sync = true;
  }
  if (Object.keys(policy).length) {
    body.policy = policy;
  }
  const message = form.datasetMessage.trim();
  if (down && form.datasetMode === 'new' && form.datasetName.trim()) {
    body.dataset = { name: form.datasetName.trim() };
  } else if (down && form.datasetMode === 'version' && form.datasetId) {
    body.dataset = { id: form.datasetId };
  }
  if (body.dataset && message) {
    body.dataset.message = message;
  }
  return body;
}

/** "a, b  c" → ["a", "b", "c"]: file names or glob patterns. */
export function splitPatterns(text: string): string[] {
  return text
    .split(/[,\s]+/)
    .map(s => s.trim())
    .filter(Boolean);
}

/** Which field of the form a refusal from the server is about, when it says. */
export function fieldOfError(message: string, form: ITransferForm): Field | null {
  const m = message.toLowerCase();
  // the extension's own checks name the field: "sink.create_volume.capacity …"
  const volumeField = /create_volume\.(\w+)/.exec(m)?.[1];
  const byVolumeKey: Record<string, Field> = {
    name: 'newVolumeName',
    capacity: 'newVolumeCapacity',
    type: 'newVolumeType'
  };
  if (volumeField && byVolumeKey[volumeField]) {
    return byVolumeKey[volumeField];
  }
  const named = /(?:source|sink|policy|dataset)\.(\w+)/.exec(m)?.[1];
  const byKey: Record<string, Field> = {
    url: 'url',
    ref: 'ref',
    repo: 'repo',
    repo_type: 'repoType',
    revision: 'revision',
    files: 'files',
    path_in_repo: 'pathInRepo',
    commit_message: 'commitMessage',
    endpoint: 'endpoint',
    uri: 'uri',
    region: 'region',
    credential: 'credential',
    backoff_limit: 'retries',
    active_deadline_seconds: 'deadline',
    extra_args: 'extraArgs',
    env: 'env',
    name: 'datasetName',
    id: 'datasetId',
    message: 'datasetMessage'
  };
  if (named && byKey[named]) {
    return byKey[named];
  }
  // the execution policy's refusals (fermi_jupyter/transfers/spec.py, arguments.py), before
  // the tools' fields: "environment variable URL has the name of a transfer option" is about
  // the environment, not the URL
  if (m.includes('backoff_limit')) {
    return 'retries';
  }
  if (m.includes('active_deadline_seconds')) {
    return 'deadline';
  }
  if (
    /extra_args|is not an allowed .* option|takes no value|needs a value|takes a whole number|takes a size|takes a value/.test(
      m
    )
  ) {
    return 'extraArgs';
  }
  if (/environment variable|\benv\b|the value of \w+ is a string/.test(m)) {
    return 'env';
  }
  // a volume made by the same request (the registry's volume checks)
  if (form.into === 'newVolume' && canCreateVolume(form)) {
    if (m.includes('capacity')) {
      return 'newVolumeCapacity';
    }
    if (m.includes('volume name') || m.includes('volume named')) {
      return 'newVolumeName';
    }
    if (m.includes('create_volume')) {
      return 'newVolumeName';
    }
  }
  // the tool's own fields first: "put no password in the URL: store it as a credential…"
  // is about the URL
  if (form.tool === 'git' && m.includes('url')) {
    return 'url';
  }
  if (
    form.tool === 's3' &&
    (m.includes('s3://') || m.includes('bucket') || m.includes('uri'))
  ) {
    return 'uri';
  }
  if (form.tool === 's3' && m.includes('endpoint')) {
    return 'endpoint';
  }
  if (form.tool === 'huggingface' && m.includes('repo')) {
    return 'repo';
  }
  if (m.includes('credential') || m.includes('token')) {
    return form.credential === NEW_CREDENTIAL ? 'newName' : 'credential';
  }
  if (m.includes('dataset') || m.includes('add versions')) {
    return form.datasetMode === 'version' ? 'datasetId' : 'datasetName';
  }
  return null;
}

export const ACTIVE_STATES = new Set(['pending', 'running']);

/** Done as a fraction (bytes, else files), or null when the total is not known yet. */
export function transferFraction(p: ITransferProgress | undefined): number | null {
  if (!p) {
    return null;
  }
  if (p.bytes_total && p.bytes_done !== null) {
    return Math.min(1, p.bytes_done / p.bytes_total);
  }
  if (p.files_total && p.files_done !== null) {
    return Math.min(1, p.files_done / p.files_total);
  }
  return null;
}

/** Names for the ids a transfer carries, to show it by what the user calls things. */
export interface IPlaceNames {
  volume?: (id: string) => string | undefined;
  dataset?: (id: string) => string | undefined;
}

/** "imagenet@3" for the reference "ds-…@3" when the dataset's name is known (or given as
 * ``fallback``: the name an import asked for); the reference itself otherwise. */
export function versionLabel(
  ref: string,
  datasetName?: (id: string) => string | undefined,
  fallback?: string
): string {
  const at = ref.lastIndexOf('@');
  if (at <= 0) {
    return ref;
  }
  const name = datasetName?.(ref.slice(0, at)) ?? fallback;
  return name ? `${name}@${ref.slice(at + 1)}` : ref;
}

/** The version an import registered, by its dataset's name when known. */
export function registeredVersion(
  t: ITransfer,
  names: IPlaceNames = {}
): string | null {
  return t.version ? versionLabel(t.version, names.dataset, t.dataset?.name) : null;
}

/** Short words for a transfer's two ends: "git: https://…/x.git → work:data/x". */
export function describePlace(
  p: ITransferPlace | undefined,
  names: IPlaceNames = {}
): string {
  if (!p) {
    return '';
  }
  switch (p.type) {
    case 'git':
      return String(p.url ?? '');
    case 'huggingface':
      return `hf://${p.repo_type && p.repo_type !== 'model' ? `${p.repo_type}s/` : ''}${p.repo ?? ''}`;
    case 's3':
      return String(p.uri ?? '');
    case 'volume':
      return `${names.volume?.(String(p.volume_id)) ?? p.volume_id ?? ''}:${p.path || '/'}`;
    case 'dataset':
      return versionLabel(String(p.version ?? ''), names.dataset);
    default:
      return p.type;
  }
}

export function describeTransfer(t: ITransfer, names: IPlaceNames = {}): string {
  return `${describePlace(t.source, names)} → ${describePlace(t.sink, names)}`;
}
