/**
 * A volume's folder, a page at a time: breadcrumbs, a name search that can be cancelled, and a
 * windowed list (only the rows on screen are in the page, whatever the folder's size).
 */
import { TranslationBundle } from '@jupyterlab/translation';
import { fileIcon, folderIcon, searchIcon } from '@jupyterlab/ui-components';
import React, { useCallback, useEffect, useState } from 'react';
import { List, RowComponentProps } from 'react-window';

import { formatBytes } from '../format';
import { ITreeEntry } from '../tokens';
import { DirectoryModel } from '../tree';
import { ErrorNote } from './EmptyState';
import { useModel } from './useModel';

export const ROW_HEIGHT = 26;

export interface IDirectoryBrowserProps {
  model: DirectoryModel;
  trans: TranslationBundle;
  /** highlight and report the clicked folder (the wizard); otherwise a click opens it */
  selectable?: boolean;
  /** extra buttons on a folder row (e.g. "Register as dataset…") */
  renderActions?: (entry: ITreeEntry) => React.ReactNode;
  onSelect?: (path: string) => void;
  /** visible rows; the list scrolls beyond that */
  height?: number;
}

interface IRowProps {
  entries: ITreeEntry[];
  model: DirectoryModel;
  selectable: boolean;
  trans: TranslationBundle;
  renderActions?: (entry: ITreeEntry) => React.ReactNode;
  onSelect?: (path: string) => void;
}

function Row(props: RowComponentProps<IRowProps>): JSX.Element {
  const { index, style, entries, model, selectable, trans, renderActions, onSelect } =
    props;
  const entry = entries[index];
  if (!entry) {
    return (
      <div
        style={style}
        className="jp-fermi-row jp-fermi-row-loading"
        {...props.ariaAttributes}
      >
        {trans.__('Loading…')}
      </div>
    );
  }
  const isDir = entry.type === 'dir';
  const selected = model.selected === entry.path;
  const enter = () => {
    if (isDir) {
      void model.open(entry.path);
    }
  };
  const choose = () => {
    if (isDir && selectable) {
      model.select(entry.path);
      onSelect?.(entry.path);
    } else if (isDir) {
      enter();
    }
  };
  const Icon = isDir ? folderIcon : fileIcon;
  return (
    <div
      style={style}
      {...props.ariaAttributes}
      className={`jp-fermi-row${selected ? ' jp-mod-selected' : ''}${isDir ? ' jp-fermi-row-dir' : ''}`}
      data-path={entry.path}
      data-type={entry.type}
      title={model.query ? entry.path : entry.name}
      tabIndex={isDir ? 0 : -1}
      aria-selected={selectable ? selected : undefined}
      onClick={choose}
      onDoubleClick={enter}
      onKeyDown={e => {
        if (e.key === 'Enter') {
          e.preventDefault();
          enter();
        } else if (e.key === ' ') {
          e.preventDefault();
          choose();
        }
      }}
    >
      <Icon.react tag="span" className="jp-fermi-row-icon" />
      <span className="jp-fermi-row-name">{model.query ? entry.path : entry.name}</span>
      <span className="jp-fermi-row-size">{isDir ? '' : formatBytes(entry.size)}</span>
      {isDir && renderActions && (
        <span className="jp-fermi-row-actions">{renderActions(entry)}</span>
      )}
    </div>
  );
}

export function DirectoryBrowser(props: IDirectoryBrowserProps): JSX.Element {
  const { model, trans } = props;
  useModel(model);
  const [text, setText] = useState(model.query);
  useEffect(() => {
    if (!model.loaded && !model.loading) {
      void model.open(model.path);
    }
  }, [model]);

  const onRowsRendered = useCallback(
    (visible: { startIndex: number; stopIndex: number }) => {
      if (visible.stopIndex >= model.entries.length - 20) {
        void model.loadMore();
      }
    },
    [model]
  );

  const rowCount = model.entries.length + (model.next ? 1 : 0);
  const visibleRows = props.height ?? 12;
  const height = Math.max(1, Math.min(rowCount, visibleRows)) * ROW_HEIGHT;
  return (
    <div className="jp-fermi-browser" data-volume={model.volumeId}>
      <nav className="jp-fermi-crumbs" aria-label={trans.__('Folder path')}>
        <button className="jp-fermi-crumb" onClick={() => void model.open('')}>
          {trans.__('(volume root)')}
        </button>
        {model.crumbs.map(([path, name]) => (
          <React.Fragment key={path}>
            <span className="jp-fermi-crumb-sep">/</span>
            <button className="jp-fermi-crumb" onClick={() => void model.open(path)}>
              {name}
            </button>
          </React.Fragment>
        ))}
      </nav>
      <form
        className="jp-fermi-search"
        role="search"
        onSubmit={e => {
          e.preventDefault();
          void model.search(text);
        }}
      >
        <searchIcon.react tag="span" className="jp-fermi-search-icon" />
        <input
          type="search"
          className="jp-fermi-input"
          value={text}
          placeholder={trans.__('Search names in sub folders')}
          aria-label={trans.__('Search names in sub folders')}
          onChange={e => {
            setText(e.target.value);
            if (!e.target.value && model.query) {
              void model.search('');
            }
          }}
        />
        {model.searching ? (
          <button
            type="button"
            className="jp-fermi-button"
            onClick={() => model.cancel()}
          >
            {trans.__('Cancel search')}
          </button>
        ) : (
          <button type="submit" className="jp-fermi-button">
            {trans.__('Search')}
          </button>
        )}
      </form>
      {model.error && (
        <ErrorNote
          message={model.error}
          retryLabel={trans.__('Try again')}
          onRetry={() => void model.reload()}
        />
      )}
      {model.loaded && !model.error && model.entries.length === 0 && !model.loading && (
        <div className="jp-fermi-muted jp-fermi-pad">
          {model.query
            ? trans.__('No names contain “%1” below this folder.', model.query)
            : trans.__('This folder is empty.')}
        </div>
      )}
      {model.query && model.truncated && (
        <div className="jp-fermi-muted jp-fermi-pad">
          {trans.__(
            'The search looked at as many entries as one request may; scroll on to continue.'
          )}
        </div>
      )}
      {rowCount > 0 && (
        <List
          className="jp-fermi-list"
          role="list"
          aria-label={trans.__('Folder contents')}
          style={{ height }}
          rowComponent={Row}
          rowCount={rowCount}
          rowHeight={ROW_HEIGHT}
          overscanCount={8}
          onRowsRendered={onRowsRendered}
          rowProps={{
            entries: model.entries,
            model,
            selectable: !!props.selectable,
            trans,
            renderActions: props.renderActions,
            onSelect: props.onSelect
          }}
        />
      )}
      {model.loading && (
        <div className="jp-fermi-muted jp-fermi-pad" role="status">
          {model.query ? trans.__('Searching…') : trans.__('Loading…')}
        </div>
      )}
    </div>
  );
}
