/** "Create dataset from volume": the three steps of the workflow document. */
import { TranslationBundle } from '@jupyterlab/translation';
import React, { useEffect } from 'react';

import { formatBytes, formatCount } from '../format';
import { DataType, Visibility } from '../tokens';
import { ErrorKey, WizardError, WizardModel } from '../wizard';
import { DirectoryBrowser } from './DirectoryBrowser';
import { dataTypeLabel, visibilityLabel } from './DatasetsSection';
import { UsageBar } from './UsageBar';
import { typeAdvice, typeName } from './VolumesSection';
import { useModel } from './useModel';

const DATA_TYPES: DataType[] = ['image', 'text', 'audio', 'video', 'mixed', 'other'];
const VISIBILITIES: Visibility[] = ['private', 'team', 'org', 'public'];

export function errorText(
  error: WizardError | string,
  trans: TranslationBundle
): string {
  switch (error) {
    case 'name-required':
      return trans.__('A name is required.');
    case 'name-invalid':
      return trans.__(
        'Use letters, digits, spaces, “.”, “-” and “_” (at most 128), starting with a letter or digit.'
      );
    case 'name-taken':
      return trans.__(
        'You already have a dataset with this name. Choose another name, or register a new version of it.'
      );
    case 'dataset-required':
      return trans.__('Choose the dataset that gets the new version.');
    case 'team-required':
      return trans.__('Name the team that may see the dataset.');
    case 'tags-invalid':
      return trans.__(
        'Tags are single words (letters, digits, “.”, “-”, “_”, “:”), separated by commas.'
      );
    case 'volume-required':
      return trans.__('Choose a volume.');
    case 'path-required':
      return trans.__('Click a folder to choose it (double-click opens it).');
    case 'description-too-long':
      return trans.__('The description is too long (at most 2000 characters).');
    default:
      return error;
  }
}

function FieldError(props: {
  model: WizardModel;
  field: ErrorKey;
  trans: TranslationBundle;
}): JSX.Element | null {
  const error = props.model.errors[props.field];
  if (!error) {
    return null;
  }
  return (
    <div
      className="jp-fermi-field-error"
      role="alert"
      id={`jp-fermi-err-${props.field}`}
    >
      {errorText(error, props.trans)}
    </div>
  );
}

function Steps(props: { model: WizardModel; trans: TranslationBundle }): JSX.Element {
  const { model, trans } = props;
  const names = [
    trans.__('Choose a volume'),
    trans.__('Choose a folder'),
    trans.__('Describe it')
  ];
  return (
    <ol className="jp-fermi-steps">
      {names.map((name, i) => (
        <li
          key={name}
          className={
            model.step === i + 1
              ? 'jp-mod-active'
              : model.step > i + 1
                ? 'jp-mod-done'
                : ''
          }
          aria-current={model.step === i + 1 ? 'step' : undefined}
        >
          <span className="jp-fermi-step-number">{i + 1}</span> {name}
        </li>
      ))}
    </ol>
  );
}

function StepVolume(props: {
  model: WizardModel;
  trans: TranslationBundle;
  warnAt: number;
}) {
  const { model, trans } = props;
  if (model.volumesError) {
    return <div className="jp-fermi-error">{model.volumesError}</div>;
  }
  if (!model.volumesLoading && model.volumes.length === 0) {
    return (
      <div className="jp-fermi-empty">
        {trans.__(
          'You have no volumes yet. Create one on the spawn form, put data in it, then come back.'
        )}
      </div>
    );
  }
  return (
    <div
      role="radiogroup"
      aria-label={trans.__('Volumes')}
      className="jp-fermi-choices"
    >
      {model.volumes.map(v => (
        <button
          key={v.id}
          role="radio"
          aria-checked={model.volume?.id === v.id}
          className={`jp-fermi-choice${model.volume?.id === v.id ? ' jp-mod-selected' : ''}`}
          data-volume={v.id}
          onClick={() => model.chooseVolume(v)}
          onDoubleClick={() => {
            model.chooseVolume(v);
            model.next();
          }}
        >
          <span className="jp-fermi-choice-title">
            {v.name} <span className="jp-fermi-kind">{typeName(v.type, trans)}</span>
          </span>
          <UsageBar
            used={v.usage?.bytes}
            capacity={v.capacity_bytes}
            warnAt={props.warnAt}
            trans={trans}
          />
          <span className="jp-fermi-advice">{typeAdvice(v.type, trans)}</span>
        </button>
      ))}
      <FieldError model={model} field="volume" trans={trans} />
    </div>
  );
}

function StepFolder(props: { model: WizardModel; trans: TranslationBundle }) {
  const { model, trans } = props;
  if (!model.directory) {
    return null;
  }
  const dir = model.directory;
  return (
    <div>
      <p className="jp-fermi-muted">
        {trans.__('Double-click a folder to open it; click to choose it.')}
      </p>
      <DirectoryBrowser
        model={dir}
        trans={trans}
        selectable
        height={14}
        onSelect={path => model.choosePath(path)}
      />
      <div className="jp-fermi-row-between">
        <button className="jp-fermi-button" onClick={() => model.choosePath(dir.path)}>
          {dir.path
            ? trans.__('Choose the open folder (%1)', dir.path)
            : trans.__('Choose the whole volume')}
        </button>
        <span className="jp-fermi-selected" aria-live="polite">
          {model.path === null
            ? trans.__('No folder chosen')
            : trans.__('Chosen: %1', `/${model.path}`)}
        </span>
      </div>
      <FieldError model={model} field="path" trans={trans} />
    </div>
  );
}

function StepDetails(props: {
  model: WizardModel;
  trans: TranslationBundle;
  zones: string[];
}) {
  const { model, trans } = props;
  const f = model.fields;
  const s = model.summary;
  const invalid = (k: ErrorKey) => (model.errors[k] ? true : undefined);
  return (
    <div className="jp-fermi-form">
      <div className="jp-fermi-source">
        {trans.__('Folder: %1:/%2', model.volume?.name ?? '', model.path ?? '')}
        {s && (
          <span className="jp-fermi-muted">
            {' · '}
            {trans.__('%1 files, %2', formatCount(s.files), formatBytes(s.bytes))}
            {s.truncated ? ' ' + trans.__('(at least)') : ''}
          </span>
        )}
      </div>
      <fieldset className="jp-fermi-radios">
        <legend>{trans.__('Register as')}</legend>
        <label>
          <input
            type="radio"
            name="target"
            checked={f.target === 'new'}
            onChange={() => model.setField('target', 'new')}
          />
          {trans.__('a new dataset')}
        </label>
        <label>
          <input
            type="radio"
            name="target"
            checked={f.target === 'version'}
            onChange={() => model.setField('target', 'version')}
          />
          {trans.__('a new version of one of my datasets')}
        </label>
      </fieldset>
      {f.target === 'version' ? (
        <label className="jp-fermi-field">
          <span>{trans.__('Dataset')}</span>
          <select
            value={f.dataset}
            aria-invalid={invalid('dataset')}
            onChange={e => model.setField('dataset', e.target.value)}
          >
            <option value="">{trans.__('— choose —')}</option>
            {model.myDatasets.map(d => (
              <option key={d.id} value={d.id}>
                {d.latest ? `${d.name} (v${d.latest})` : d.name}
              </option>
            ))}
          </select>
          <FieldError model={model} field="dataset" trans={trans} />
        </label>
      ) : (
        <>
          <label className="jp-fermi-field">
            <span>
              {trans.__('Name')} <abbr title={trans.__('required')}>*</abbr>
            </span>
            <input
              className="jp-fermi-input"
              name="name"
              value={f.name}
              required
              aria-invalid={invalid('name')}
              aria-describedby="jp-fermi-err-name"
              placeholder="ImageNet-2024-Augmented-v1"
              onChange={e => model.setField('name', e.target.value)}
              onBlur={() => model.validateField('name')}
            />
            {model.nameState === 'checking' && (
              <span className="jp-fermi-muted">{trans.__('Checking the name…')}</span>
            )}
            {model.nameState === 'free' && !model.errors.name && (
              <span className="jp-fermi-ok">{trans.__('The name is free.')}</span>
            )}
            <FieldError model={model} field="name" trans={trans} />
          </label>
          <label className="jp-fermi-field">
            <span>{trans.__('Data type')}</span>
            <select
              name="dataType"
              value={f.dataType}
              onChange={e => model.setField('dataType', e.target.value as DataType)}
            >
              <option value="">{trans.__('— choose —')}</option>
              {DATA_TYPES.map(t => (
                <option key={t} value={t}>
                  {dataTypeLabel(t, trans)}
                </option>
              ))}
            </select>
            {model.suggestedType && (
              <span className="jp-fermi-muted">
                {trans.__(
                  'Suggested from the files: %1',
                  dataTypeLabel(model.suggestedType, trans)
                )}
              </span>
            )}
          </label>
          <label className="jp-fermi-field">
            <span>{trans.__('Description')}</span>
            <textarea
              name="description"
              value={f.description}
              rows={3}
              aria-invalid={invalid('description')}
              onChange={e => model.setField('description', e.target.value)}
            />
            <FieldError model={model} field="description" trans={trans} />
          </label>
          <label className="jp-fermi-field">
            <span>{trans.__('Zone')}</span>
            <input
              className="jp-fermi-input"
              name="zone"
              list="jp-fermi-zones"
              value={f.zone}
              onChange={e => model.setField('zone', e.target.value)}
            />
            <datalist id="jp-fermi-zones">
              {props.zones.map(z => (
                <option key={z} value={z} />
              ))}
            </datalist>
          </label>
          <label className="jp-fermi-field">
            <span>{trans.__('Visibility')}</span>
            <select
              name="visibility"
              value={f.visibility}
              onChange={e => model.setField('visibility', e.target.value as Visibility)}
            >
              {VISIBILITIES.map(v => (
                <option key={v} value={v}>
                  {visibilityLabel(v, trans)}
                </option>
              ))}
            </select>
          </label>
          {f.visibility === 'team' && (
            <label className="jp-fermi-field">
              <span>{trans.__('Team')}</span>
              <input
                className="jp-fermi-input"
                name="team"
                value={f.team}
                aria-invalid={invalid('team')}
                onChange={e => model.setField('team', e.target.value)}
              />
              <FieldError model={model} field="team" trans={trans} />
            </label>
          )}
          <label className="jp-fermi-field">
            <span>{trans.__('Tags')}</span>
            <input
              className="jp-fermi-input"
              name="tags"
              value={f.tags}
              placeholder={trans.__('augmented, cleaned')}
              aria-invalid={invalid('tags')}
              onChange={e => model.setField('tags', e.target.value)}
            />
            <FieldError model={model} field="tags" trans={trans} />
          </label>
        </>
      )}
      <fieldset className="jp-fermi-radios">
        <legend>{trans.__('How')}</legend>
        <label>
          <input
            type="radio"
            name="mode"
            checked={f.mode === 'snapshot'}
            onChange={() => model.setField('mode', 'snapshot')}
          />
          {trans.__(
            'Snapshot: copy the files (later changes to the folder do not matter)'
          )}
        </label>
        <label>
          <input
            type="radio"
            name="mode"
            checked={f.mode === 'reference'}
            onChange={() => model.setField('mode', 'reference')}
          />
          {trans.__(
            'Reference: instant, mounts the folder itself (do not change it afterwards)'
          )}
        </label>
      </fieldset>
      <label className="jp-fermi-field">
        <span>{trans.__('Version note')}</span>
        <input
          className="jp-fermi-input"
          name="message"
          value={f.message}
          onChange={e => model.setField('message', e.target.value)}
        />
      </label>
    </div>
  );
}

export function Wizard(props: {
  model: WizardModel;
  trans: TranslationBundle;
  warnAt: number;
  zones: string[];
  onDone: () => void;
  onCancel: () => void;
}): JSX.Element {
  const { model, trans } = props;
  useModel(model);
  useEffect(() => {
    if (model.volumes.length === 0 && !model.volumesLoading) {
      void model.loadVolumes();
    }
  }, [model]);
  const submitting = model.phase === 'submitting';
  return (
    <div className="jp-fermi-wizard" data-step={model.step}>
      <h2 className="jp-fermi-wizard-title">
        {trans.__('Create dataset from volume')}
      </h2>
      <Steps model={model} trans={trans} />
      <div className="jp-fermi-wizard-body">
        {model.step === 1 && (
          <StepVolume model={model} trans={trans} warnAt={props.warnAt} />
        )}
        {model.step === 2 && <StepFolder model={model} trans={trans} />}
        {model.step === 3 && (
          <StepDetails model={model} trans={trans} zones={props.zones} />
        )}
      </div>
      <FieldError model={model} field="submit" trans={trans} />
      <div className="jp-fermi-wizard-footer">
        <button
          className="jp-fermi-button"
          onClick={props.onCancel}
          disabled={submitting}
        >
          {trans.__('Cancel')}
        </button>
        <span className="jp-fermi-spacer" />
        {model.step > 1 && (
          <button
            className="jp-fermi-button"
            onClick={() => model.back()}
            disabled={submitting}
          >
            {trans.__('Back')}
          </button>
        )}
        {model.step < 3 ? (
          <button
            className="jp-fermi-button jp-mod-accept"
            disabled={!model.canAdvance()}
            onClick={() => model.next()}
          >
            {trans.__('Next')}
          </button>
        ) : (
          <button
            className="jp-fermi-button jp-mod-accept"
            disabled={submitting}
            onClick={async () => {
              if (await model.submit()) {
                props.onDone();
              }
            }}
          >
            {submitting
              ? trans.__('Registering…')
              : model.fields.target === 'version'
                ? trans.__('Register version')
                : trans.__('Create dataset')}
          </button>
        )}
      </div>
    </div>
  );
}
