/**
 * One version of a dataset: its status chip, live progress while it runs, the details people
 * ask for (size, files, created, aliases, lineage, diff) and the actions they may take.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import React, { useState } from 'react';

import { formatBytes, formatCount, formatDuration, formatTime } from '../format';
import { progressView } from '../progress';
import { IDiff, ILineage, IVersion } from '../tokens';
import { StatusChip } from './StatusChip';

/** What a version row can ask the panel to do. */
export interface IVersionActions {
  copyPath(v: IVersion): void;
  cancel(v: IVersion): void;
  verify(v: IVersion): void;
  restore(v: IVersion): void;
  /** "Export…": upload the version to Hugging Face or S3 */
  exportVersion?(v: IVersion): void;
  remove(v: IVersion): void;
  showError(v: IVersion): void;
  showDrift(v: IVersion): void;
  diff(v: IVersion, against: IVersion): Promise<IDiff>;
  lineage(v: IVersion): Promise<ILineage>;
}

function Progress(props: {
  version: IVersion;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { trans } = props;
  const p = progressView(props.version.progress);
  if (!p) {
    return null;
  }
  const percent = p.fraction === null ? null : Math.round(p.fraction * 100);
  return (
    <div className="jp-fermi-progress">
      <div
        className="jp-fermi-usage-bar"
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent ?? undefined}
        aria-label={trans.__('Registration progress')}
      >
        <div
          className={`jp-fermi-usage-fill${percent === null ? ' jp-fermi-indeterminate' : ''}`}
          style={{ width: `${percent ?? 100}%` }}
        />
      </div>
      <div className="jp-fermi-progress-text">
        {p.filesTotal !== null
          ? trans.__(
              '%1 of %2 files',
              formatCount(p.filesDone),
              formatCount(p.filesTotal)
            )
          : trans.__('%1 files', formatCount(p.filesDone))}
        {' · '}
        {p.bytesTotal !== null
          ? trans.__('%1 of %2', formatBytes(p.bytesDone), formatBytes(p.bytesTotal))
          : formatBytes(p.bytesDone)}
        {p.rate !== null && !p.stalledSince && (
          <>
            {' · '}
            {trans.__('%1/s', formatBytes(p.rate))}
          </>
        )}
        {p.eta !== null && (
          <>
            {' · '}
            {trans.__('about %1 left', formatDuration(p.eta))}
          </>
        )}
      </div>
      {p.stalledSince && (
        <div className="jp-fermi-warning" role="status">
          {trans.__(
            'Stalled since %1: no progress since then.',
            formatTime(p.stalledSince)
          )}
        </div>
      )}
    </div>
  );
}

function Details(props: {
  version: IVersion;
  previous: IVersion | null;
  trans: TranslationBundle;
  actions: IVersionActions;
}): JSX.Element {
  const { version: v, previous, trans, actions } = props;
  const [lineage, setLineage] = useState<ILineage | null | string>(null);
  const [diff, setDiff] = useState<IDiff | null | string>(null);
  const fail = (e: unknown) => (e instanceof Error ? e.message : String(e));
  return (
    <div className="jp-fermi-details">
      <dl className="jp-fermi-facts">
        <dt>{trans.__('Size')}</dt>
        <dd>{formatBytes(v.bytes)}</dd>
        {v.mode !== 'reference' && typeof v.new_bytes === 'number' && (
          <>
            <dt
              title={trans.__(
                'Disk space this version added: files unchanged since an earlier version are shared with it'
              )}
            >
              {trans.__('New storage')}
            </dt>
            <dd>{formatBytes(v.new_bytes)}</dd>
          </>
        )}
        <dt>{trans.__('Files')}</dt>
        <dd>{formatCount(v.files)}</dd>
        <dt>{trans.__('Created')}</dt>
        <dd>
          {formatTime(v.created_at)}
          {v.created_by ? ` · ${v.created_by}` : ''}
        </dd>
        <dt>{trans.__('Mode')}</dt>
        <dd>
          {v.mode === 'reference'
            ? trans.__('reference (in place)')
            : trans.__('snapshot (copied)')}
        </dd>
        {v.source?.path !== undefined && v.source?.path !== null && (
          <>
            <dt>{trans.__('Source')}</dt>
            <dd>{`${v.source.volume_id ?? ''}:/${v.source.path}`}</dd>
          </>
        )}
        {!!v.aliases?.length && (
          <>
            <dt>{trans.__('Aliases')}</dt>
            <dd>{v.aliases.join(', ')}</dd>
          </>
        )}
        {v.message && (
          <>
            <dt>{trans.__('Message')}</dt>
            <dd>{v.message}</dd>
          </>
        )}
      </dl>
      <div className="jp-fermi-detail-actions">
        <button
          className="jp-fermi-link"
          onClick={() => actions.lineage(v).then(setLineage, e => setLineage(fail(e)))}
        >
          {trans.__('Lineage')}
        </button>
        {previous && (
          <button
            className="jp-fermi-link"
            onClick={() =>
              actions.diff(v, previous).then(setDiff, e => setDiff(fail(e)))
            }
          >
            {trans.__('Diff against version %1', previous.number)}
          </button>
        )}
      </div>
      {typeof lineage === 'string' && <div className="jp-fermi-error">{lineage}</div>}
      {lineage && typeof lineage !== 'string' && (
        <div className="jp-fermi-lineage">
          <div>
            {trans.__('Made from:')}{' '}
            {lineage.parents.length
              ? lineage.parents.map(n => (n.visible ? n.label : n.ref)).join(', ')
              : trans.__('nothing recorded')}
          </div>
          <div>
            {trans.__('Used by:')}{' '}
            {lineage.children.length
              ? lineage.children.map(n => n.label).join(', ')
              : trans.__('no versions yet')}
          </div>
        </div>
      )}
      {typeof diff === 'string' && <div className="jp-fermi-error">{diff}</div>}
      {diff && typeof diff !== 'string' && (
        <div className="jp-fermi-diff">
          <div>
            {trans.__(
              '%1 added, %2 removed, %3 changed, %4 unchanged',
              diff.counts.added,
              diff.counts.removed,
              diff.counts.changed,
              diff.counts.unchanged
            )}
          </div>
          <ul>
            {diff.added.slice(0, 20).map(f => (
              <li key={`a${f.path}`}>+ {f.path}</li>
            ))}
            {diff.removed.slice(0, 20).map(f => (
              <li key={`r${f.path}`}>− {f.path}</li>
            ))}
            {diff.changed.slice(0, 20).map(f => (
              <li key={`c${f.path}`}>~ {f.path}</li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}

export function VersionItem(props: {
  version: IVersion;
  previous: IVersion | null;
  owner: boolean;
  trans: TranslationBundle;
  actions: IVersionActions;
}): JSX.Element {
  const { version: v, trans, actions, owner } = props;
  const [open, setOpen] = useState(false);
  const running = v.status === 'pending' || v.status === 'processing';
  const settled = v.status === 'ready' || v.status === 'drifted';
  return (
    <li className="jp-fermi-version" data-ref={v.ref} data-status={v.status}>
      <div className="jp-fermi-version-head">
        <button
          className="jp-fermi-version-number"
          aria-expanded={open}
          onClick={() => setOpen(!open)}
          title={trans.__('Show details')}
        >
          {trans.__('v%1', v.number)}
        </button>
        <StatusChip status={v.status} trans={trans} />
        {v.mounted_here && (
          <span className="jp-fermi-kind">{trans.__('mounted here')}</span>
        )}
        {settled && <span className="jp-fermi-muted">{formatBytes(v.bytes)}</span>}
        <span className="jp-fermi-spacer" />
        {running && owner && (
          <button className="jp-fermi-link" onClick={() => actions.cancel(v)}>
            {trans.__('Cancel')}
          </button>
        )}
        {settled && (
          <button className="jp-fermi-link" onClick={() => actions.copyPath(v)}>
            {v.mounted_here ? trans.__('Copy mount path') : trans.__('Copy reference')}
          </button>
        )}
      </div>
      {running && <Progress version={v} trans={trans} />}
      {v.status === 'failed' && (
        <div className="jp-fermi-error" role="alert">
          <span>{v.error || trans.__('The registration failed.')}</span>
          <button className="jp-fermi-link" onClick={() => actions.showError(v)}>
            {trans.__('Show details')}
          </button>
        </div>
      )}
      {v.status === 'drifted' && (
        <div className="jp-fermi-warning" role="status">
          <span>
            {trans.__('The source folder changed since this version was registered.')}
          </span>
          <button className="jp-fermi-link" onClick={() => actions.showDrift(v)}>
            {trans.__('Show changed files')}
          </button>
        </div>
      )}
      {open && (
        <>
          <Details
            version={v}
            previous={props.previous}
            trans={trans}
            actions={actions}
          />
          {settled && (
            <div className="jp-fermi-detail-actions">
              <button className="jp-fermi-link" onClick={() => actions.verify(v)}>
                {trans.__('Verify')}
              </button>
              <button className="jp-fermi-link" onClick={() => actions.restore(v)}>
                {trans.__('Restore into a volume…')}
              </button>
              {v.status === 'ready' && actions.exportVersion && (
                <button
                  className="jp-fermi-link"
                  onClick={() => actions.exportVersion?.(v)}
                >
                  {trans.__('Export…')}
                </button>
              )}
              {owner && (
                <button
                  className="jp-fermi-link jp-fermi-danger"
                  onClick={() => actions.remove(v)}
                >
                  {trans.__('Delete…')}
                </button>
              )}
            </div>
          )}
          {(v.status === 'failed' || v.status === 'cancelled') && owner && (
            <div className="jp-fermi-detail-actions">
              <button
                className="jp-fermi-link jp-fermi-danger"
                onClick={() => actions.remove(v)}
              >
                {trans.__('Delete…')}
              </button>
            </div>
          )}
        </>
      )}
    </li>
  );
}
