/** "Datasets": search, scope filters, and each dataset's versions. */
import { TranslationBundle } from '@jupyterlab/translation';
import { caretDownIcon, caretRightIcon } from '@jupyterlab/ui-components';
import React from 'react';

import { DataModel } from '../model';
import { DataType, IDataset, Scope, Visibility } from '../tokens';
import { EmptyState, ErrorNote } from './EmptyState';
import { IVersionActions, VersionItem } from './VersionItem';
import { useModel } from './useModel';

export function visibilityLabel(
  v: Visibility | string,
  trans: TranslationBundle
): string {
  switch (v) {
    case 'private':
      return trans.__('private');
    case 'team':
      return trans.__('team');
    case 'org':
      return trans.__('organization');
    case 'public':
      return trans.__('public');
    default:
      return v;
  }
}

export function dataTypeLabel(t: DataType | string, trans: TranslationBundle): string {
  switch (t) {
    case 'text':
      return trans.__('text');
    case 'image':
      return trans.__('image');
    case 'audio':
      return trans.__('audio');
    case 'video':
      return trans.__('video');
    case 'mixed':
      return trans.__('mixed');
    case 'other':
      return trans.__('other');
    default:
      return t;
  }
}

function scopes(trans: TranslationBundle): Array<[Scope, string]> {
  return [
    ['all', trans.__('All')],
    ['mine', trans.__('Mine')],
    ['team', trans.__('Team')],
    ['org', trans.__('Organization')],
    ['public', trans.__('Public')]
  ];
}

export interface IDatasetActions extends IVersionActions {
  edit(ds: IDataset): void;
  create(): void;
}

function DatasetItem(props: {
  model: DataModel;
  dataset: IDataset;
  trans: TranslationBundle;
  actions: IDatasetActions;
}): JSX.Element {
  const { model, dataset: ds, trans, actions } = props;
  const open = model.expanded.has(ds.id);
  const versions = model.versions.get(ds.id);
  const owner = model.owns(ds);
  const Caret = open ? caretDownIcon : caretRightIcon;
  return (
    <li className="jp-fermi-dataset" data-dataset={ds.id} data-name={ds.name}>
      <button
        className="jp-fermi-dataset-head"
        aria-expanded={open}
        onClick={() => void model.toggle(ds.id)}
      >
        <Caret.react tag="span" />
        <span className="jp-fermi-dataset-name">{ds.name}</span>
        {ds.latest !== null && (
          <span className="jp-fermi-muted">{trans.__('v%1', ds.latest)}</span>
        )}
      </button>
      <div className="jp-fermi-dataset-meta">
        <span className="jp-fermi-kind">{visibilityLabel(ds.visibility, trans)}</span>
        <span>{ds.owner}</span>
        {ds.data_type && <span>{dataTypeLabel(ds.data_type, trans)}</span>}
        {ds.tags.map(t => (
          <span key={t} className="jp-fermi-tag">
            {t}
          </span>
        ))}
      </div>
      {open && (
        <div className="jp-fermi-versions">
          {ds.description && (
            <div className="jp-fermi-description">{ds.description}</div>
          )}
          {owner && (
            <button className="jp-fermi-link" onClick={() => actions.edit(ds)}>
              {trans.__('Edit visibility and tags…')}
            </button>
          )}
          {versions?.error && (
            <ErrorNote
              message={versions.error}
              retryLabel={trans.__('Try again')}
              onRetry={() => void model.loadVersions(ds.id)}
            />
          )}
          {versions?.loaded && versions.items.length === 0 && (
            <div className="jp-fermi-muted">{trans.__('No versions yet.')}</div>
          )}
          {!versions?.loaded && (
            <div className="jp-fermi-muted">{trans.__('Loading…')}</div>
          )}
          <ul aria-label={trans.__('Versions of %1', ds.name)}>
            {versions?.items.map(v => (
              <VersionItem
                key={v.number}
                version={v}
                previous={model.previousOf(v)}
                owner={owner}
                trans={trans}
                actions={actions}
              />
            ))}
          </ul>
        </div>
      )}
    </li>
  );
}

export function DatasetsSection(props: {
  model: DataModel;
  trans: TranslationBundle;
  actions: IDatasetActions;
}): JSX.Element {
  const { model, trans, actions } = props;
  useModel(model);
  const { items, error, loaded, loading, next } = model.datasets;
  const filtered = model.query !== '' || model.scope !== 'all';
  return (
    <div className="jp-fermi-datasets-section">
      <div className="jp-fermi-search" role="search">
        <input
          type="search"
          className="jp-fermi-input"
          value={model.query}
          placeholder={trans.__('Search datasets')}
          aria-label={trans.__('Search datasets')}
          onChange={e => model.setQuery(e.target.value)}
        />
      </div>
      <div className="jp-fermi-scopes" role="radiogroup" aria-label={trans.__('Show')}>
        {scopes(trans).map(([scope, label]) => (
          <button
            key={scope}
            role="radio"
            aria-checked={model.scope === scope}
            className={`jp-fermi-scope${model.scope === scope ? ' jp-mod-active' : ''}`}
            onClick={() => model.setScope(scope)}
          >
            {label}
          </button>
        ))}
      </div>
      {error && (
        <ErrorNote
          message={error}
          retryLabel={trans.__('Try again')}
          onRetry={() => void model.refreshDatasets()}
        />
      )}
      {!loaded && !error && (
        <div className="jp-fermi-muted jp-fermi-pad">{trans.__('Loading…')}</div>
      )}
      {loaded && !error && items.length === 0 && !loading && (
        <EmptyState
          title={filtered ? trans.__('No datasets match') : trans.__('No datasets yet')}
        >
          {filtered ? (
            trans.__('Try another name or show all datasets.')
          ) : (
            <>
              {trans.__(
                'A dataset is a read-only, versioned folder you can mount in any server. Register a folder of one of your volumes to make the first one.'
              )}{' '}
              <button className="jp-fermi-link" onClick={() => actions.create()}>
                {trans.__('Create dataset from volume…')}
              </button>
            </>
          )}
        </EmptyState>
      )}
      <ul className="jp-fermi-datasets" aria-label={trans.__('Datasets')}>
        {items.map(ds => (
          <DatasetItem
            key={ds.id}
            model={model}
            dataset={ds}
            trans={trans}
            actions={actions}
          />
        ))}
      </ul>
      {next && (
        <button
          className="jp-fermi-button"
          disabled={loading}
          onClick={() => void model.loadMoreDatasets()}
        >
          {trans.__('Show more')}
        </button>
      )}
    </div>
  );
}
