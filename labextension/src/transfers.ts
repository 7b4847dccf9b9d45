/**
 * The "Import data…" / "Export…" form's logic, without React: which fields each tool has,
 * what must be filled in before asking the server, the request bodies, and which field a
 * server refusal is about. docs/user/transfers.md has every field.
 */
import { TranslationBundle } from '@jupyterlab/translation';

import {
  ICredential,
  ICredentialCreate,
  ITransfer,
  ITransferCreate,
  ITransferPlace,
  ITransferProgress,
  TransferTool
} from './tokens';

export type Direction = 'download' | 'upload';
export type RepoType = 'model' | 'dataset' | 'space';

/** The local side: a folder of a volume, or (export only) a dataset version. */
export type LocalPlace =
  | { kind: 'volume'; volumeId: string; volumeName: string; path: string }
  | { kind: 'dataset'; version: string; label?: string };

/** Value of the credential picker that opens the inline "new credential" fields. */
export const NEW_CREDENTIAL = '+new';

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
  /** downloads: register the result as a new dataset of this name ('' = do not) */
  datasetName: string;
  retries: number;
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
    datasetName: '',
    retries: 0
  };
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

const CREDENTIAL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const HF_REPO = /^[^/\s]+\/[^/\s]+$/;
const DATASET_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

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
  if (form.datasetName && !DATASET_NAME.test(form.datasetName.trim())) {
    errors.datasetName = trans.__(
      'A dataset name: letters, digits, “.”, “-” or “_”, starting with a letter or digit.'
    );
  }
  if (!Number.isInteger(form.retries) || form.retries < 0 || form.retries > 10) {
    errors.retries = trans.__('Retries: a whole number from 0 to 10.');
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
  const body: ICredentialCreate = { name: form.newName.trim(), type: form.tool };
  if (form.tool === 's3') {
    body.access_key_id = form.accessKeyId.trim();
    body.secret_access_key = form.secretAccessKey;
  } else {
    body.token = form.token;
    if (form.tool === 'git' && form.username.trim()) {
      body.username = form.username.trim();
    }
  }
  return body;
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

export function transferBody(form: ITransferForm): ITransferCreate {
  const remote = remotePlace(form);
  const local = localPlace(form.local);
  const down = form.direction === 'download';
  const body: ITransferCreate = down
    ? { source: remote, sink: local }
    : { source: local, sink: remote };
  const policy: ITransferCreate['policy'] = {};
  if (form.retries > 0) {
    policy.backoff_limit = form.retries;
  }
  if (down && form.tool === 's3' && form.sync) {
    policy.sync = true;
  }
  if (Object.keys(policy).length) {
    body.policy = policy;
  }
  if (down && form.datasetName.trim()) {
    body.dataset = { name: form.datasetName.trim() };
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
  const named = /(?:source|sink)\.(\w+)/.exec(m)?.[1];
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
    credential: 'credential'
  };
  if (named && byKey[named]) {
    return byKey[named];
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
  if (m.includes('dataset')) {
    return 'datasetName';
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

/** Short words for a transfer's two ends: "git: https://…/x.git → work:data/x". */
export function describePlace(
  p: ITransferPlace | undefined,
  volumeName: (id: string) => string | undefined = () => undefined
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
      return `${volumeName(String(p.volume_id)) ?? p.volume_id ?? ''}:${p.path ?? ''}`;
    case 'dataset':
      return String(p.version ?? '');
    default:
      return p.type;
  }
}

export function describeTransfer(
  t: ITransfer,
  volumeName?: (id: string) => string | undefined
): string {
  return `${describePlace(t.source, volumeName)} → ${describePlace(t.sink, volumeName)}`;
}
