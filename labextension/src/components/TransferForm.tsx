/**
 * "Import data…" / "Export…": the tool's fields, a credential picker (yours of that type, or a
 * new one stored on the way), where a download goes (the folder or a new volume), "import as
 * a dataset" (new, or a new version of one of yours), the execution policy, and the server's
 * refusal shown on the field it is about. The logic lives in `transfers.ts`; the fieldsets
 * beside the tool's own fields in `TransferFields.tsx`.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import React, { useEffect, useState } from 'react';

import { CredentialsModel } from '../credentials';
import { errorMessage } from '../model';
import {
  canCreateVolume,
  credentialBody,
  credentialsFor,
  Field,
  FieldErrors,
  fieldOfError,
  ITransferForm,
  NEW_CREDENTIAL,
  RepoType,
  toolsFor,
  transferBody,
  validate
} from '../transfers';
import {
  IDataset,
  IFermiApi,
  ITransfer,
  ITransferCreate,
  TransferTool
} from '../tokens';
import { CredentialField, CredentialFields } from './CredentialFields';
import {
  DatasetFields,
  FieldError,
  IntoFields,
  PolicyFields,
  TextField
} from './TransferFields';
import { useModel } from './useModel';

/** The form's own names of the new credential's fields (its name is `newName`). */
function formFieldOf(field: CredentialField): Field {
  return field === 'name' ? 'newName' : field;
}

export function toolName(tool: string, trans: TranslationBundle): string {
  switch (tool) {
    case 'git':
      return trans.__('Git');
    case 'huggingface':
      return trans.__('Hugging Face');
    case 's3':
      return trans.__('S3');
    default:
      return tool;
  }
}

export function formTitle(form: ITransferForm, trans: TranslationBundle): string {
  const local = form.local;
  if (canCreateVolume(form) && form.into === 'newVolume') {
    return trans.__('Import data into a new volume');
  }
  const where =
    local.kind === 'volume'
      ? `${local.volumeName}:${local.path || '/'}`
      : (local.label ?? local.version);
  return form.direction === 'download'
    ? trans.__('Import data into %1', where)
    : trans.__('Export %1', where);
}

interface IProps {
  initial: ITransferForm;
  api: IFermiApi;
  /** your stored credentials, shared with the Credentials tab */
  credentials: CredentialsModel;
  trans: TranslationBundle;
  /** the transfer started, with the body that started it */
  onStarted: (t: ITransfer, body: ITransferCreate) => void;
  onCancel: () => void;
}

export function TransferForm(props: IProps): JSX.Element {
  const { api, credentials, trans } = props;
  const [form, setForm] = useState<ITransferForm>(props.initial);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [serverError, setServerError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [datasets, setDatasets] = useState<IDataset[] | null>(null);
  const [datasetsError, setDatasetsError] = useState<string | null>(null);

  // the list is shared with the Credentials tab: one stored or deleted there shows here at once
  useModel(credentials);
  useEffect(() => {
    void credentials.refresh();
  }, [credentials]);
  // a picked credential deleted meanwhile: back to none, rather than naming a missing one
  const picked = form.credential;
  const gone =
    credentials.loaded &&
    picked !== '' &&
    picked !== NEW_CREDENTIAL &&
    !credentials.items.some(c => c.name === picked && c.type === form.tool);
  useEffect(() => {
    if (gone) {
      setForm(f => ({ ...f, credential: '' }));
    }
  }, [gone]);

  // the datasets a new version may go to: yours (only owners add versions)
  const wantDatasets = form.datasetMode === 'version';
  useEffect(() => {
    if (!wantDatasets || datasets !== null) {
      return;
    }
    api.datasets({ scope: 'mine', limit: 500 }).then(
      list => setDatasets([...list.items].sort((a, b) => a.name.localeCompare(b.name))),
      e => {
        setDatasets([]);
        setDatasetsError(errorMessage(e));
      }
    );
  }, [api, wantDatasets, datasets]);

  const set = <K extends Field>(key: K, value: ITransferForm[K]) => {
    setForm(f => ({ ...f, [key]: value }));
    setErrors(e => ({ ...e, [key]: undefined }));
  };
  const setTool = (tool: TransferTool) => {
    setForm(f => ({ ...f, tool, credential: '', endpoint: '' }));
    setErrors({});
    setServerError(null);
  };

  const submit = async (ev: React.FormEvent) => {
    ev.preventDefault();
    const found = validate(form, trans);
    setErrors(found);
    setServerError(null);
    if (Object.keys(found).length) {
      return;
    }
    setBusy(true);
    let current = form;
    try {
      const cred = credentialBody(current);
      if (cred) {
        const made = await credentials.create(cred);
        // stored: a second try must not store it again
        current = { ...current, credential: made.name, token: '', secretAccessKey: '' };
        setForm(current);
      }
      const body = transferBody(current);
      const t = await api.createTransfer(body);
      props.onStarted(t, body);
    } catch (e) {
      const message = errorMessage(e);
      const field = fieldOfError(message, current);
      if (field) {
        setErrors(errs => ({ ...errs, [field]: message })); // on its field, not twice
      } else {
        setServerError(message);
      }
    } finally {
      setBusy(false);
    }
  };

  const down = form.direction === 'download';
  const mine = credentialsFor(credentials.items, form.tool);
  const input = (
    key: Field,
    label: string,
    extra: React.InputHTMLAttributes<HTMLInputElement> = {}
  ) => (
    <TextField
      label={label}
      name={key}
      value={String(form[key] ?? '')}
      error={errors[key]}
      onChange={value => set(key, value as never)}
      trans={trans}
      extra={extra}
    />
  );

  const fieldProps = { form, errors, trans, set, input };

  return (
    <form className="jp-fermi-transfer-form" onSubmit={submit} noValidate>
      <h2 className="jp-fermi-wizard-title">{formTitle(form, trans)}</h2>
      <IntoFields {...fieldProps} />
      <fieldset className="jp-fermi-field jp-fermi-tools">
        <legend>{down ? trans.__('Source') : trans.__('Destination')}</legend>
        {toolsFor(form).map(tool => (
          <label key={tool} className="jp-fermi-radio">
            <input
              type="radio"
              name="tool"
              value={tool}
              checked={form.tool === tool}
              onChange={() => setTool(tool)}
            />
            {toolName(tool, trans)}
          </label>
        ))}
      </fieldset>

      {form.tool === 'git' && (
        <>
          {input('url', trans.__('Repository URL'), {
            required: true,
            placeholder: 'https://git.example.org/team/code.git'
          })}
          <div className="jp-fermi-hint">
            {trans.__(
              'With a credential, write $(TOKEN) where the token goes (https://$(TOKEN)@host/…), or leave the URL plain: Git is given the token when the server asks for it.'
            )}
          </div>
          {input('ref', down ? trans.__('Branch, tag or commit') : trans.__('Branch'), {
            placeholder: down ? trans.__('default branch') : trans.__('current branch')
          })}
        </>
      )}

      {form.tool === 'huggingface' && (
        <>
          {input('repo', trans.__('Repository (owner/name)'), {
            required: true,
            placeholder: 'openai/whisper-tiny'
          })}
          <label className="jp-fermi-field">
            <span>{trans.__('Repository type')}</span>
            <select
              name="repoType"
              value={form.repoType}
              onChange={e => set('repoType', e.target.value as RepoType)}
            >
              <option value="model">{trans.__('model')}</option>
              <option value="dataset">{trans.__('dataset')}</option>
              <option value="space">{trans.__('space')}</option>
            </select>
            <FieldError message={errors.repoType} field="repoType" />
          </label>
          {input('revision', trans.__('Revision'), { placeholder: 'main' })}
          {down
            ? input('files', trans.__('Files or patterns (optional)'), {
                placeholder: '*.json, *.safetensors'
              })
            : input('pathInRepo', trans.__('Folder in the repository'))}
          {!down && input('commitMessage', trans.__('Commit message'))}
          {input('endpoint', trans.__('Hub endpoint (optional)'), {
            placeholder: 'https://huggingface.co'
          })}
        </>
      )}

      {form.tool === 's3' && (
        <>
          {input('endpoint', trans.__('Endpoint'), {
            placeholder: 'https://s3.example.org'
          })}
          {input('uri', trans.__('Bucket and prefix'), {
            required: true,
            placeholder: 's3://bucket/prefix'
          })}
          {input('region', trans.__('Region'), { placeholder: 'us-east-1' })}
          {down ? (
            <label className="jp-fermi-check">
              <input
                type="checkbox"
                name="sync"
                checked={form.sync}
                onChange={e => set('sync', e.target.checked)}
              />
              {trans.__(
                'Sync: make the folder an exact copy (deletes files the prefix lacks)'
              )}
            </label>
          ) : (
            <label className="jp-fermi-check">
              <input
                type="checkbox"
                name="noCheckBucket"
                checked={form.noCheckBucket}
                onChange={e => set('noCheckBucket', e.target.checked)}
              />
              {trans.__('Do not check that the bucket exists')}
            </label>
          )}
        </>
      )}

      <label className="jp-fermi-field">
        <span>{trans.__('Credential')}</span>
        <select
          name="credential"
          value={form.credential}
          aria-invalid={errors.credential ? true : undefined}
          onChange={e => set('credential', e.target.value)}
        >
          <option value="">{trans.__('None (public)')}</option>
          {mine.map(c => (
            <option key={c.name} value={c.name}>
              {c.name}
            </option>
          ))}
          <option value={NEW_CREDENTIAL}>{trans.__('Add a new credential…')}</option>
        </select>
        <FieldError message={errors.credential} field="credential" />
        {credentials.error && <div className="jp-fermi-muted">{credentials.error}</div>}
      </label>
      {form.credential === NEW_CREDENTIAL && (
        <fieldset className="jp-fermi-new-credential">
          <legend>
            {trans.__(
              'New %1 credential (stored encrypted; never shown again)',
              toolName(form.tool, trans)
            )}
          </legend>
          <CredentialFields
            type={form.tool}
            values={{
              name: form.newName,
              username: form.username,
              token: form.token,
              accessKeyId: form.accessKeyId,
              secretAccessKey: form.secretAccessKey
            }}
            errors={{
              name: errors.newName,
              username: errors.username,
              token: errors.token,
              accessKeyId: errors.accessKeyId,
              secretAccessKey: errors.secretAccessKey
            }}
            inputName={formFieldOf}
            onChange={(f, value) => set(formFieldOf(f), value)}
            trans={trans}
          />
        </fieldset>
      )}

      <DatasetFields
        {...fieldProps}
        datasets={datasets}
        datasetsError={datasetsError}
      />
      <PolicyFields {...fieldProps} />

      {serverError && (
        <div className="jp-fermi-error" role="alert">
          {serverError}
        </div>
      )}
      <div className="jp-fermi-wizard-footer">
        <button
          type="button"
          className="jp-fermi-button"
          onClick={props.onCancel}
          disabled={busy}
        >
          {trans.__('Cancel')}
        </button>
        <button type="submit" className="jp-fermi-button jp-mod-accept" disabled={busy}>
          {busy
            ? trans.__('Starting…')
            : down
              ? trans.__('Start import')
              : trans.__('Start export')}
        </button>
      </div>
    </form>
  );
}
