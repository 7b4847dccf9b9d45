/**
 * Your stored credentials, without React: the list (names, types and which fields are set —
 * the server never answers a value), delete, and the "New credential" form's checks and body.
 */
import { VDomModel } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';

import { errorMessage } from './model';
import { ICredential, ICredentialCreate, IFermiApi, TransferTool } from './tokens';

export const CREDENTIAL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export interface ICredentialDraft {
  name: string;
  type: TransferTool;
  token: string;
  username: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export type DraftField = keyof ICredentialDraft;
export type DraftErrors = Partial<Record<DraftField, string>>;

export function newDraft(type: TransferTool = 'git'): ICredentialDraft {
  return {
    name: '',
    type,
    token: '',
    username: '',
    accessKeyId: '',
    secretAccessKey: ''
  };
}

/** What must be filled in before the credential is sent. */
export function validateDraft(
  d: ICredentialDraft,
  trans: TranslationBundle
): DraftErrors {
  const errors: DraftErrors = {};
  if (!CREDENTIAL_NAME.test(d.name.trim())) {
    errors.name = trans.__(
      'A credential name: letters, digits, “.”, “-” or “_”, starting with a letter or digit.'
    );
  }
  if (d.type === 's3') {
    if (!d.accessKeyId.trim()) {
      errors.accessKeyId = trans.__('Enter the access key ID.');
    }
    if (!d.secretAccessKey) {
      errors.secretAccessKey = trans.__('Enter the secret access key.');
    }
  } else if (!d.token) {
    errors.token = trans.__('Enter the token.');
  }
  return errors;
}

/** POST credentials: only the fields of the type (a Git user name only when given). */
export function draftBody(d: ICredentialDraft): ICredentialCreate {
  const body: ICredentialCreate = { name: d.name.trim(), type: d.type };
  if (d.type === 's3') {
    body.access_key_id = d.accessKeyId.trim();
    body.secret_access_key = d.secretAccessKey;
  } else {
    body.token = d.token;
    if (d.type === 'git' && d.username.trim()) {
      body.username = d.username.trim();
    }
  }
  return body;
}

/** Which field of the form a refusal of the server is about. */
export function draftFieldOfError(message: string): DraftField | null {
  const m = message.toLowerCase();
  if (/\bname\b|already|exists/.test(m)) {
    return 'name';
  }
  if (m.includes('access_key_id') || m.includes('access key id')) {
    return 'accessKeyId';
  }
  if (m.includes('secret')) {
    return 'secretAccessKey';
  }
  if (m.includes('token')) {
    return 'token';
  }
  return null;
}

/**
 * One per sidebar: the Credentials tab and every open transfer form show the same list, so a
 * credential stored or deleted in one is seen by the others without reopening them.
 */
export class CredentialsModel extends VDomModel {
  constructor(readonly api: IFermiApi) {
    super();
  }

  items: ICredential[] = [];
  loaded = false;
  error: string | null = null;

  async refresh(): Promise<void> {
    const changes = this._changes;
    try {
      const list = await this.api.credentials();
      if (this._changes !== changes) {
        return this.refresh(); // stored or deleted meanwhile: this list may predate it
      }
      this.items = [...list.items].sort(
        (a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name)
      );
      this.error = null;
    } catch (e) {
      this.error = errorMessage(e);
    }
    this.loaded = true;
    this.stateChanged.emit();
  }

  /** Store a new one; the server's refusal is thrown for the form to show. */
  async create(body: ICredentialCreate): Promise<ICredential> {
    const made = await this.api.createCredential(body);
    this._changes++;
    this.items = [...this.items.filter(c => c.name !== made.name), made].sort(
      (a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name)
    );
    this.stateChanged.emit();
    return made;
  }

  async remove(name: string): Promise<void> {
    await this.api.deleteCredential(name);
    this._changes++;
    this.items = this.items.filter(c => c.name !== name);
    this.stateChanged.emit();
  }

  private _changes = 0;
}
