/**
 * "Credentials": your stored credentials by name and type, with which fields are set (never a
 * value: the server does not answer one), delete (after a confirmation the caller asks), and
 * a form to store a new one. The logic lives in `credentials.ts`.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import React, { useState } from 'react';

import {
  CredentialsModel,
  draftBody,
  DraftErrors,
  DraftField,
  draftFieldOfError,
  ICredentialDraft,
  newDraft,
  validateDraft
} from '../credentials';
import { formatTime } from '../format';
import { errorMessage } from '../model';
import { ICredential, TransferTool } from '../tokens';
import { CredentialFields } from './CredentialFields';
import { EmptyState, ErrorNote } from './EmptyState';
import { toolName } from './TransferForm';
import { useModel } from './useModel';

const TOOLS: TransferTool[] = ['git', 'huggingface', 's3'];

export function credentialFieldName(field: string, trans: TranslationBundle): string {
  switch (field) {
    case 'token':
      return trans.__('token');
    case 'username':
      return trans.__('user name');
    case 'access_key_id':
      return trans.__('access key ID');
    case 'secret_access_key':
      return trans.__('secret access key');
    default:
      return field;
  }
}

function CredentialItem(props: {
  c: ICredential;
  trans: TranslationBundle;
  onDelete: (c: ICredential) => void;
}): JSX.Element {
  const { c, trans } = props;
  const fields = c.fields.map(f => credentialFieldName(f, trans)).join(', ');
  return (
    <li className="jp-fermi-credential" data-credential={c.name} data-type={c.type}>
      <span className="jp-fermi-credential-name">{c.name}</span>
      <span className="jp-fermi-kind">{toolName(c.type, trans)}</span>
      <span className="jp-fermi-dataset-meta">
        {fields && trans.__('holds: %1', fields)}
        {c.created_at && ` · ${trans.__('stored %1', formatTime(c.created_at))}`}
      </span>
      <button
        type="button"
        className="jp-fermi-link jp-fermi-danger"
        aria-label={trans.__('Delete credential %1', c.name)}
        onClick={() => props.onDelete(c)}
      >
        {trans.__('Delete')}
      </button>
    </li>
  );
}

function NewCredential(props: {
  model: CredentialsModel;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, trans } = props;
  const [draft, setDraft] = useState<ICredentialDraft>(newDraft());
  const [errors, setErrors] = useState<DraftErrors>({});
  const [serverError, setServerError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [stored, setStored] = useState<string | null>(null);

  const set = (key: DraftField, value: string) => {
    setDraft(d => ({ ...d, [key]: value }));
    setErrors(e => ({ ...e, [key]: undefined }));
    setStored(null);
  };
  const submit = async (ev: React.FormEvent) => {
    ev.preventDefault();
    const found = validateDraft(draft, trans);
    setErrors(found);
    setServerError(null);
    if (Object.keys(found).length) {
      return;
    }
    setBusy(true);
    try {
      const made = await model.create(draftBody(draft));
      setDraft(newDraft(draft.type)); // the secret leaves the page at once
      setStored(made.name);
    } catch (e) {
      const message = errorMessage(e);
      const field = draftFieldOfError(message);
      if (field) {
        setErrors(errs => ({ ...errs, [field]: message }));
      } else {
        setServerError(message);
      }
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="jp-fermi-new-credential-form" onSubmit={submit} noValidate>
      <fieldset className="jp-fermi-group">
        <legend>
          {trans.__('New credential (stored encrypted; never shown again)')}
        </legend>
        <label className="jp-fermi-field">
          <span>{trans.__('Type')}</span>
          <select
            name="credential-type"
            value={draft.type}
            onChange={e => set('type', e.target.value)}
          >
            {TOOLS.map(t => (
              <option key={t} value={t}>
                {toolName(t, trans)}
              </option>
            ))}
          </select>
        </label>
        <CredentialFields
          type={draft.type}
          values={draft}
          errors={errors}
          inputName={f => `credential-${f}`}
          onChange={set}
          trans={trans}
        />
        {serverError && (
          <div className="jp-fermi-error" role="alert">
            {serverError}
          </div>
        )}
        {stored && (
          <div className="jp-fermi-muted" role="status">
            {trans.__('Stored %1.', stored)}
          </div>
        )}
        <div>
          <button
            type="submit"
            className="jp-fermi-button jp-mod-accept"
            disabled={busy}
          >
            {busy ? trans.__('Storing…') : trans.__('Store credential')}
          </button>
        </div>
      </fieldset>
    </form>
  );
}

export function CredentialsView(props: {
  model: CredentialsModel;
  trans: TranslationBundle;
  onDelete: (c: ICredential) => void;
}): JSX.Element {
  const { model, trans } = props;
  useModel(model);
  let list: JSX.Element;
  if (model.error) {
    list = (
      <ErrorNote
        message={model.error}
        retryLabel={trans.__('Try again')}
        onRetry={() => void model.refresh()}
      />
    );
  } else if (!model.loaded) {
    list = <div className="jp-fermi-muted">{trans.__('Loading…')}</div>;
  } else if (model.items.length === 0) {
    list = (
      <EmptyState title={trans.__('No credentials yet')}>
        {trans.__(
          'Store a token or an S3 key here (or from the import form) and name it in transfers.'
        )}
      </EmptyState>
    );
  } else {
    list = (
      <ul
        className="jp-fermi-credential-list"
        aria-label={trans.__('Your credentials')}
      >
        {model.items.map(c => (
          <CredentialItem key={c.name} c={c} trans={trans} onDelete={props.onDelete} />
        ))}
      </ul>
    );
  }
  return (
    <div className="jp-fermi-credentials">
      <h2 className="jp-fermi-wizard-title">{trans.__('Credentials')}</h2>
      <div className="jp-fermi-hint-inline">
        {trans.__(
          'Tokens and keys for Git, Hugging Face and S3 transfers, stored encrypted by the registry and usable only by you. Their values are never shown: to change one, delete it and store it again.'
        )}
      </div>
      {list}
      <NewCredential model={model} trans={trans} />
    </div>
  );
}
