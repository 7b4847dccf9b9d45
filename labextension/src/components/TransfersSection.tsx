/**
 * "Transfers": your downloads, uploads and imports with live state (a chip in words), attempts
 * and retries, a progress bar, cancel, the reason of a failure and the log.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import React from 'react';

import { formatBytes, formatCount, formatTime, ltr } from '../format';
import { TransfersModel } from '../transferModel';
import {
  ACTIVE_STATES,
  describeTransfer,
  IPlaceNames,
  registeredVersion,
  transferFraction
} from '../transfers';
import { ITransfer } from '../tokens';
import { EmptyState, ErrorNote } from './EmptyState';
import { toolName } from './TransferForm';
import { useModel } from './useModel';

export function transferStateLabel(state: string, trans: TranslationBundle): string {
  switch (state) {
    case 'pending':
      return trans.__('pending');
    case 'running':
      return trans.__('running');
    case 'complete':
      return trans.__('complete');
    case 'failed':
      return trans.__('failed');
    case 'cancelled':
      return trans.__('cancelled');
    default:
      return state;
  }
}

export interface ITransferActions {
  cancel(t: ITransfer): void;
  showLog(t: ITransfer): void;
  /** open the "Credentials" tab */
  openCredentials(): void;
}

function TransferProgress(props: {
  t: ITransfer;
  trans: TranslationBundle;
}): JSX.Element {
  const { t, trans } = props;
  const p = t.progress;
  const fraction = transferFraction(p);
  const text =
    p.bytes_total !== null && p.bytes_total !== undefined
      ? trans.__('%1 of %2', formatBytes(p.bytes_done), formatBytes(p.bytes_total))
      : trans.__(
          '%1 files, %2',
          formatCount(p.files_done ?? 0),
          formatBytes(p.bytes_done ?? 0)
        );
  const active = ACTIVE_STATES.has(t.state);
  return (
    <div className="jp-fermi-usage">
      {active && (
        <div
          className={`jp-fermi-usage-bar${fraction === null ? ' jp-fermi-indeterminate' : ''}`}
          role="progressbar"
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={fraction === null ? undefined : Math.round(fraction * 100)}
          aria-label={text}
        >
          <div
            className="jp-fermi-usage-fill"
            style={{
              width: fraction === null ? '100%' : `${Math.round(fraction * 100)}%`
            }}
          />
        </div>
      )}
      <div className="jp-fermi-progress-text">{text}</div>
    </div>
  );
}

function TransferItem(props: {
  t: ITransfer;
  trans: TranslationBundle;
  actions: ITransferActions;
  names: IPlaceNames;
}): JSX.Element {
  const { t, trans, actions } = props;
  const what = describeTransfer(t, props.names);
  const registered = registeredVersion(t, props.names);
  const retries = t.policy?.backoff_limit ?? 0;
  const attempts = retries
    ? trans.__('attempt %1 of %2', Math.max(1, t.attempts), retries + 1)
    : trans.__('attempts: %1', t.attempts);
  return (
    <li className="jp-fermi-transfer" data-transfer={t.id} data-state={t.state}>
      <div className="jp-fermi-version-head">
        <span className="jp-fermi-kind">
          {t.direction === 'download' ? trans.__('Import') : trans.__('Export')} ·{' '}
          {toolName(t.tool, trans)}
        </span>
        <span
          className={`jp-fermi-chip jp-fermi-chip-${t.state}`}
          data-status={t.state}
        >
          {transferStateLabel(t.state, trans)}
        </span>
      </div>
      <div className="jp-fermi-path" title={what}>
        {ltr(what)}
      </div>
      <div className="jp-fermi-dataset-meta">
        <span>{attempts}</span>
        {t.created_at && <span> · {formatTime(t.created_at)}</span>}
        {registered && <span> · {trans.__('dataset %1', registered)}</span>}
      </div>
      <TransferProgress t={t} trans={trans} />
      {t.state === 'failed' && (
        <div className="jp-fermi-error" role="status">
          {t.reason ? `${t.reason}: ` : ''}
          {t.error || trans.__('no reason given')}
        </div>
      )}
      <div className="jp-fermi-detail-actions">
        {ACTIVE_STATES.has(t.state) && (
          <button
            className="jp-fermi-link jp-fermi-danger"
            onClick={() => actions.cancel(t)}
          >
            {trans.__('Cancel')}
          </button>
        )}
        <button className="jp-fermi-link" onClick={() => actions.showLog(t)}>
          {trans.__('View log')}
        </button>
      </div>
    </li>
  );
}

export function TransfersSection(props: {
  model: TransfersModel;
  trans: TranslationBundle;
  actions: ITransferActions;
}): JSX.Element {
  const { model, trans } = props;
  useModel(model);
  const tools = (
    <div className="jp-fermi-transfers-tools">
      <button
        type="button"
        className="jp-fermi-link"
        name="credentials"
        onClick={() => props.actions.openCredentials()}
      >
        {trans.__('Credentials…')}
      </button>
    </div>
  );
  let body: JSX.Element;
  if (model.error) {
    body = (
      <ErrorNote
        message={model.error}
        retryLabel={trans.__('Try again')}
        onRetry={() => void model.refresh()}
      />
    );
  } else if (!model.loaded) {
    body = <div className="jp-fermi-muted jp-fermi-pad">{trans.__('Loading…')}</div>;
  } else if (model.items.length === 0) {
    body = (
      <EmptyState title={trans.__('No transfers yet')}>
        {trans.__(
          'Bring data in from Git, Hugging Face or S3 with “Import data…” on a folder of a volume; send a folder or a dataset version out with “Export…”.'
        )}
      </EmptyState>
    );
  } else {
    body = (
      <>
        <ul className="jp-fermi-transfers" aria-label={trans.__('Transfers')}>
          {model.items.map(t => (
            <TransferItem
              key={t.id}
              t={t}
              trans={trans}
              actions={props.actions}
              names={model.names}
            />
          ))}
        </ul>
        {model.nextCursor !== null && (
          <div className="jp-fermi-more">
            <button
              type="button"
              className="jp-fermi-button"
              name="more-transfers"
              disabled={model.loadingMore}
              onClick={() => void model.loadMore()}
            >
              {model.loadingMore ? trans.__('Loading…') : trans.__('Show more')}
            </button>
            {model.moreError && (
              <div className="jp-fermi-error" role="alert">
                {model.moreError}
              </div>
            )}
          </div>
        )}
      </>
    );
  }
  return (
    <div className="jp-fermi-transfers-section">
      {tools}
      {body}
    </div>
  );
}
