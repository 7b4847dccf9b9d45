/**
 * The parts of the transfer form beside the tool's fields: where a download goes (the folder,
 * or a volume made in the same request), "import as a dataset" (a new one or a new version of
 * one of yours) and the execution policy (retries, deadline, extra arguments, environment).
 */
import { TranslationBundle } from '@jupyterlab/translation';
import React from 'react';

import {
  canCreateVolume,
  DatasetMode,
  DeadlineUnit,
  Field,
  FieldErrors,
  IEnvRow,
  Into,
  ITransferForm,
  MAX_RETRIES
} from '../transfers';
import { IDataset, VolumeType } from '../tokens';
import { typeAdvice, typeName } from './VolumesSection';

const VOLUME_TYPES: VolumeType[] = ['ssd', 'hdd', 'shared'];

export interface IFieldsProps {
  form: ITransferForm;
  errors: FieldErrors;
  trans: TranslationBundle;
  set: <K extends Field>(key: K, value: ITransferForm[K]) => void;
  input: (
    key: Field,
    label: string,
    extra?: React.InputHTMLAttributes<HTMLInputElement>
  ) => JSX.Element;
}

export function FieldError(props: {
  message?: string;
  field: string;
}): JSX.Element | null {
  if (!props.message) {
    return null;
  }
  return (
    <div className="jp-fermi-field-error" role="alert" data-field={props.field}>
      {props.message}
    </div>
  );
}

/** A labelled text input with its error under it (a star when required). */
export function TextField(props: {
  label: string;
  name: string;
  value: string;
  error?: string;
  onChange: (value: string) => void;
  trans: TranslationBundle;
  extra?: React.InputHTMLAttributes<HTMLInputElement>;
}): JSX.Element {
  const { label, name, value, error, onChange, trans, extra = {} } = props;
  return (
    <label className="jp-fermi-field">
      <span>
        {label}
        {extra.required && <abbr title={trans.__('required')}> *</abbr>}
      </span>
      <input
        className="jp-fermi-input"
        name={name}
        value={value}
        aria-invalid={error ? true : undefined}
        onChange={e => onChange(e.target.value)}
        {...extra}
      />
      <FieldError message={error} field={name} />
    </label>
  );
}

/** Downloads from a volume folder: into it, or into a new volume. */
export function IntoFields(props: IFieldsProps): JSX.Element | null {
  const { form, errors, trans, set, input } = props;
  if (!canCreateVolume(form) || form.local.kind !== 'volume') {
    return null;
  }
  const here = `${form.local.volumeName}:${form.local.path || '/'}`;
  const radio = (value: Into, label: string) => (
    <label className="jp-fermi-radio">
      <input
        type="radio"
        name="into"
        value={value}
        checked={form.into === value}
        onChange={() => set('into', value)}
      />
      {label}
    </label>
  );
  return (
    <fieldset className="jp-fermi-field jp-fermi-group" data-group="into">
      <legend>{trans.__('Into')}</legend>
      {radio('folder', trans.__('This folder (%1)', here))}
      {radio('newVolume', trans.__('A new volume, created with the import'))}
      {form.into === 'newVolume' && (
        <>
          {input('newVolumeName', trans.__('Volume name'), {
            required: true,
            placeholder: 'datacube-pvc'
          })}
          {input('newVolumeCapacity', trans.__('Capacity'), {
            required: true,
            placeholder: '100Gi'
          })}
          <label className="jp-fermi-field">
            <span>{trans.__('Type')}</span>
            <select
              name="newVolumeType"
              value={form.newVolumeType}
              aria-invalid={errors.newVolumeType ? true : undefined}
              onChange={e => set('newVolumeType', e.target.value as VolumeType)}
            >
              {VOLUME_TYPES.map(t => (
                <option key={t} value={t}>
                  {typeName(t, trans)}
                </option>
              ))}
            </select>
            <div className="jp-fermi-hint-inline">
              {typeAdvice(form.newVolumeType, trans)}
            </div>
            <FieldError message={errors.newVolumeType} field="newVolumeType" />
          </label>
          {input('newVolumePath', trans.__('Folder in the new volume (optional)'), {
            placeholder: trans.__('the volume’s root')
          })}
        </>
      )}
    </fieldset>
  );
}

/** Downloads: register the result as a new dataset, or as a new version of one of yours. */
export function DatasetFields(
  props: IFieldsProps & { datasets: IDataset[] | null; datasetsError: string | null }
): JSX.Element | null {
  const { form, errors, trans, set, input } = props;
  if (form.direction !== 'download') {
    return null;
  }
  const radio = (value: DatasetMode, label: string) => (
    <label className="jp-fermi-radio">
      <input
        type="radio"
        name="datasetMode"
        value={value}
        checked={form.datasetMode === value}
        onChange={() => set('datasetMode', value)}
      />
      {label}
    </label>
  );
  return (
    <fieldset className="jp-fermi-field jp-fermi-group" data-group="dataset">
      <legend>{trans.__('Import as a dataset')}</legend>
      {radio('none', trans.__('No, only download'))}
      {radio('new', trans.__('As a new dataset'))}
      {radio('version', trans.__('As a new version of one of your datasets'))}
      {form.datasetMode === 'new' &&
        input('datasetName', trans.__('Dataset name'), {
          required: true,
          placeholder: 'whisper-tiny'
        })}
      {form.datasetMode === 'version' && (
        <label className="jp-fermi-field">
          <span>
            {trans.__('Dataset')}
            <abbr title={trans.__('required')}> *</abbr>
          </span>
          <select
            name="datasetId"
            value={form.datasetId}
            aria-invalid={errors.datasetId ? true : undefined}
            onChange={e => set('datasetId', e.target.value)}
          >
            <option value="">
              {props.datasets === null
                ? trans.__('Loading…')
                : props.datasets.length
                  ? trans.__('Choose a dataset')
                  : trans.__('You have no datasets yet')}
            </option>
            {(props.datasets ?? []).map(d => (
              <option key={d.id} value={d.id}>
                {d.latest
                  ? trans.__('%1 (latest version %2)', d.name, d.latest)
                  : d.name}
              </option>
            ))}
          </select>
          <FieldError message={errors.datasetId} field="datasetId" />
          {props.datasetsError && (
            <div className="jp-fermi-muted">{props.datasetsError}</div>
          )}
        </label>
      )}
      {form.datasetMode !== 'none' &&
        input('datasetMessage', trans.__('Version message (optional)'), {
          placeholder: trans.__('imported from the source')
        })}
    </fieldset>
  );
}

/** The command whose options the extra arguments are (the allow-list follows its names). */
function toolCommand(form: ITransferForm): [string, string] {
  const down = form.direction === 'download';
  switch (form.tool) {
    case 'git':
      return down
        ? ['git clone / git fetch', '--depth 1']
        : ['git push', '--force-with-lease'];
    case 'huggingface':
      return down
        ? ['huggingface-cli download', '--max-workers 8']
        : ['huggingface-cli upload', '--create-pr'];
    default:
      return ['rclone copy', '--transfers 16'];
  }
}

/** Retries, the deadline per attempt, extra arguments and extra environment. */
export function PolicyFields(props: IFieldsProps): JSX.Element {
  const { form, errors, trans, set, input } = props;
  const [command, example] = toolCommand(form);
  const setRow = (i: number, row: Partial<IEnvRow>) =>
    set(
      'env',
      form.env.map((r, j) => (j === i ? { ...r, ...row } : r))
    );
  const envError = errors.env ?? '';
  return (
    <fieldset className="jp-fermi-field jp-fermi-group" data-group="policy">
      <legend>{trans.__('Execution policy')}</legend>
      <label className="jp-fermi-field">
        <span>{trans.__('Retries after a failed attempt')}</span>
        <input
          className="jp-fermi-input"
          type="number"
          name="retries"
          min={0}
          max={MAX_RETRIES}
          value={form.retries}
          aria-invalid={errors.retries ? true : undefined}
          onChange={e => set('retries', Number(e.target.value))}
        />
        <FieldError message={errors.retries} field="retries" />
      </label>
      <div className="jp-fermi-field">
        <label htmlFor="jp-fermi-deadline">
          <span>{trans.__('Deadline per attempt (optional)')}</span>
        </label>
        <div className="jp-fermi-inline">
          <input
            id="jp-fermi-deadline"
            className="jp-fermi-input"
            type="text"
            inputMode="numeric"
            name="deadline"
            placeholder={trans.__('no limit')}
            value={form.deadline}
            aria-invalid={errors.deadline ? true : undefined}
            onChange={e => set('deadline', e.target.value)}
          />
          <select
            name="deadlineUnit"
            aria-label={trans.__('Unit')}
            value={form.deadlineUnit}
            onChange={e => set('deadlineUnit', e.target.value as DeadlineUnit)}
          >
            <option value="seconds">{trans.__('seconds')}</option>
            <option value="minutes">{trans.__('minutes')}</option>
            <option value="hours">{trans.__('hours')}</option>
          </select>
        </div>
        <div className="jp-fermi-hint-inline">
          {trans.__(
            'An attempt running longer is stopped, and retried if retries are left.'
          )}
        </div>
        <FieldError message={errors.deadline} field="deadline" />
      </div>
      {input('extraArgs', trans.__('Extra arguments for %1 (optional)', command), {
        placeholder: example,
        spellCheck: false
      })}
      <div className="jp-fermi-hint">
        {trans.__(
          'Only options that tune how data moves are allowed; the registry names the allowed ones when it refuses one.'
        )}
      </div>
      <div className="jp-fermi-field" data-field-group="env">
        <span>{trans.__('Extra environment variables (optional)')}</span>
        {form.env.map((row, i) => (
          <div className="jp-fermi-inline jp-fermi-env-row" key={i}>
            <input
              className="jp-fermi-input"
              name={`env-name-${i}`}
              aria-label={trans.__('Variable name')}
              placeholder="HTTPS_PROXY"
              spellCheck={false}
              value={row.name}
              aria-invalid={
                row.name.trim() && envError.includes(row.name.trim()) ? true : undefined
              }
              onChange={e => setRow(i, { name: e.target.value })}
            />
            <span aria-hidden="true">=</span>
            <input
              className="jp-fermi-input"
              name={`env-value-${i}`}
              aria-label={trans.__('Value')}
              placeholder="http://proxy:3128"
              spellCheck={false}
              value={row.value}
              onChange={e => setRow(i, { value: e.target.value })}
            />
            <button
              type="button"
              className="jp-fermi-link jp-fermi-danger"
              aria-label={trans.__('Remove variable %1', row.name || i + 1)}
              onClick={() =>
                set(
                  'env',
                  form.env.filter((_, j) => j !== i)
                )
              }
            >
              {trans.__('Remove')}
            </button>
          </div>
        ))}
        <div>
          <button
            type="button"
            className="jp-fermi-link"
            name="addEnv"
            onClick={() => set('env', [...form.env, { name: '', value: '' }])}
          >
            {trans.__('Add a variable')}
          </button>
        </div>
        <FieldError message={errors.env} field="env" />
      </div>
    </fieldset>
  );
}
