/** "Mounted here": what this server mounts; a click opens the path in the file browser. */
import { TranslationBundle } from '@jupyterlab/translation';
import { folderIcon, lockIcon } from '@jupyterlab/ui-components';
import React from 'react';

import { ltr } from '../format';
import { DataModel } from '../model';
import { IMount } from '../tokens';
import { EmptyState, ErrorNote } from './EmptyState';
import { StatusChip } from './StatusChip';
import { useModel } from './useModel';

export function MountsSection(props: {
  model: DataModel;
  trans: TranslationBundle;
  onOpen: (mount: IMount) => void;
}): JSX.Element {
  const { model, trans } = props;
  useModel(model);
  const { items, error, loaded } = model.mounts;
  if (error) {
    return (
      <ErrorNote
        message={error}
        retryLabel={trans.__('Try again')}
        onRetry={() => void model.refreshMounts()}
      />
    );
  }
  if (!loaded) {
    return <div className="jp-fermi-muted jp-fermi-pad">{trans.__('Loading…')}</div>;
  }
  if (items.length === 0) {
    return (
      <EmptyState title={trans.__('Nothing is mounted in this server')}>
        {trans.__(
          'Datasets and volumes are chosen on the spawn form. Stop this server (File › Hub Control Panel), then start it again with “Mount dataset” and “Mount volume”.'
        )}
      </EmptyState>
    );
  }
  return (
    <div>
      {model.registryError && (
        <div className="jp-fermi-muted jp-fermi-pad" role="status">
          {trans.__(
            'Version statuses are unavailable: %1',
            model.registryError.message
          )}
        </div>
      )}
      <ul className="jp-fermi-mounts" aria-label={trans.__('Mounted here')}>
        {items.map(m => (
          <li key={m.mount_path}>
            <button
              className="jp-fermi-mount"
              data-kind={m.kind}
              data-path={m.mount_path}
              disabled={m.browser_path === null}
              title={
                m.browser_path === null
                  ? trans.__('Outside the file browser’s root: open it from a terminal')
                  : trans.__('Open %1 in the file browser', m.mount_path)
              }
              onClick={() => props.onOpen(m)}
            >
              <span className="jp-fermi-mount-head">
                <folderIcon.react tag="span" className="jp-fermi-row-icon" />
                <span className="jp-fermi-mount-label">{m.label}</span>
                <span className="jp-fermi-kind">
                  {m.kind === 'dataset' ? trans.__('dataset') : trans.__('volume')}
                </span>
                {m.read_only ? (
                  <span className="jp-fermi-lock" aria-label={trans.__('read-only')}>
                    <lockIcon.react tag="span" />
                    {trans.__('read-only')}
                  </span>
                ) : (
                  <span className="jp-fermi-rw">{trans.__('read-write')}</span>
                )}
                {m.status && m.status !== 'ready' && (
                  <StatusChip status={m.status} trans={trans} />
                )}
              </span>
              <span className="jp-fermi-path jp-fermi-mount-path" title={m.mount_path}>
                {ltr(m.mount_path)}
              </span>
              {!m.present && (
                <span className="jp-fermi-warning">
                  {trans.__('Missing in this server: restart it from the hub.')}
                </span>
              )}
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
