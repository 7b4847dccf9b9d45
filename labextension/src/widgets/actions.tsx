/**
 * What the sidebar's buttons do: dialogs to confirm or ask, calls to the server, and messages
 * that say what happened (or what to do when it did not).
 */
import {
  Clipboard,
  Dialog,
  InputDialog,
  Notification,
  ReactWidget,
  showDialog,
  showErrorMessage
} from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import React from 'react';

import { IDatasetActions } from '../components/DatasetsSection';
import { visibilityLabel } from '../components/DatasetsSection';
import { DataModel, errorMessage } from '../model';
import { IDataset, IDatasetPatch, IVersion, Visibility } from '../tokens';
import { parseTags } from '../wizard';

/** Where version `v` is mounted in this server, if it is. */
export function mountPathOf(model: DataModel, v: IVersion): string | null {
  const m = model.mounts.items.find(
    x => x.kind === 'dataset' && x.dataset_id === v.dataset_id && x.version === v.number
  );
  return m?.mount_path ?? null;
}

export function copyMountPath(
  model: DataModel,
  v: IVersion,
  trans: TranslationBundle
): void {
  const path = mountPathOf(model, v);
  const text = path ?? `${v.dataset_name ?? v.dataset_id}@${v.number}`;
  Clipboard.copyToSystem(text);
  Notification.info(
    path
      ? trans.__('Copied the mount path %1', text)
      : trans.__(
          'Copied %1: not mounted here; choose it on the spawn form to mount it',
          text
        ),
    { autoClose: 4000 }
  );
}

class EditBody extends ReactWidget {
  constructor(
    readonly ds: IDataset,
    readonly trans: TranslationBundle
  ) {
    super();
    this.addClass('jp-fermi-form');
  }

  getValue(): IDatasetPatch {
    const form = this.node;
    const value = (name: string) =>
      (form.querySelector(`[name="${name}"]`) as HTMLInputElement | null)?.value ?? '';
    const visibility = value('visibility') as Visibility;
    const patch: IDatasetPatch = {
      visibility,
      tags: parseTags(value('tags')),
      description: value('description')
    };
    if (visibility === 'team') {
      patch.team = value('team').trim() || null;
    }
    return patch;
  }

  render(): JSX.Element {
    const { ds, trans } = this;
    return (
      <>
        <label className="jp-fermi-field">
          <span>{trans.__('Visibility')}</span>
          <select name="visibility" defaultValue={ds.visibility}>
            {(['private', 'team', 'org', 'public'] as Visibility[]).map(v => (
              <option key={v} value={v}>
                {visibilityLabel(v, trans)}
              </option>
            ))}
          </select>
        </label>
        <label className="jp-fermi-field">
          <span>{trans.__('Team (for team visibility)')}</span>
          <input className="jp-fermi-input" name="team" defaultValue={ds.team ?? ''} />
        </label>
        <label className="jp-fermi-field">
          <span>{trans.__('Tags')}</span>
          <input
            className="jp-fermi-input"
            name="tags"
            defaultValue={ds.tags.join(', ')}
          />
        </label>
        <label className="jp-fermi-field">
          <span>{trans.__('Description')}</span>
          <textarea name="description" rows={3} defaultValue={ds.description ?? ''} />
        </label>
      </>
    );
  }
}

function FileList(props: { title: string; files: string[] }): JSX.Element | null {
  if (!props.files.length) {
    return null;
  }
  return (
    <div>
      <strong>{props.title}</strong>
      <ul className="jp-fermi-filelist">
        {props.files.slice(0, 100).map(f => (
          <li key={f}>{f}</li>
        ))}
      </ul>
    </div>
  );
}

function paths(value: unknown): string[] {
  if (!Array.isArray(value)) {
    return [];
  }
  return value.map(x =>
    typeof x === 'string' ? x : String((x as { path?: string }).path)
  );
}

export function createActions(
  model: DataModel,
  trans: TranslationBundle,
  openWizard: () => void
): IDatasetActions {
  const api = model.api;
  const label = (v: IVersion) =>
    v.label || `${v.dataset_name ?? v.dataset_id}@${v.number}`;
  const fail = (title: string) => (e: unknown) => {
    void showErrorMessage(title, errorMessage(e));
  };
  return {
    create: openWizard,
    copyPath: v => copyMountPath(model, v, trans),
    diff: (v, against) => api.diff(v.dataset_id, v.number, against.number),
    lineage: v => api.lineage(v.dataset_id, v.number),

    cancel: async v => {
      const answer = await showDialog({
        title: trans.__('Cancel %1?', label(v)),
        body: trans.__(
          'The files copied so far are removed. The folder itself is not touched.'
        ),
        buttons: [
          Dialog.cancelButton({ label: trans.__('Keep going') }),
          Dialog.warnButton({ label: trans.__('Cancel registration') })
        ]
      });
      if (answer.button.accept) {
        await api
          .cancelVersion(v.dataset_id, v.number)
          .then(() => model.loadVersions(v.dataset_id))
          .catch(fail(trans.__('Could not cancel %1', label(v))));
      }
    },

    verify: async v => {
      try {
        await api.verify(v.dataset_id, v.number);
        Notification.info(
          trans.__(
            'Verifying %1: its status turns “drifted” if the files changed.',
            label(v)
          ),
          { autoClose: 5000 }
        );
      } catch (e) {
        fail(trans.__('Could not verify %1', label(v)))(e);
      }
    },

    restore: async v => {
      const name = (v.dataset_name ?? v.dataset_id).replace(/\s+/g, '-');
      const volume = model.mounts.items.find(m => m.kind === 'volume' && !m.read_only);
      const answer = await InputDialog.getText({
        title: trans.__('Restore %1 into a volume', label(v)),
        label: trans.__('A new folder inside a volume mounted here:'),
        text: volume
          ? `${volume.mount_path.replace(/\/$/, '')}/${name}-v${v.number}`
          : '',
        okLabel: trans.__('Restore')
      });
      if (!answer.button.accept || !answer.value) {
        return;
      }
      try {
        const job = await api.restore(v.dataset_id, v.number, { path: answer.value });
        Notification.info(
          trans.__('Restoring %1 into %2 (job %3)', label(v), answer.value, job.id),
          { autoClose: 5000 }
        );
      } catch (e) {
        fail(trans.__('Could not restore %1', label(v)))(e);
      }
    },

    remove: async v => {
      const answer = await showDialog({
        title: trans.__('Delete %1?', label(v)),
        body: trans.__(
          'Its files are removed for everyone. Servers that mount it must be stopped first.'
        ),
        buttons: [
          Dialog.cancelButton(),
          Dialog.warnButton({ label: trans.__('Delete') })
        ]
      });
      if (!answer.button.accept) {
        return;
      }
      try {
        await api.deleteVersion(v.dataset_id, v.number);
        await model.loadVersions(v.dataset_id);
        Notification.success(trans.__('Deleted %1', label(v)), { autoClose: 4000 });
      } catch (e) {
        fail(trans.__('Could not delete %1', label(v)))(e);
      }
    },

    showError: v => {
      void showDialog({
        title: trans.__('Why %1 failed', label(v)),
        body: (
          <div className="jp-fermi-dialog-text">
            <pre>{v.error || trans.__('No reason was recorded.')}</pre>
            <p>
              {trans.__(
                'Fix the cause (space, permissions, files that changed while copying), then register the folder again.'
              )}
            </p>
          </div>
        ),
        buttons: [Dialog.okButton()]
      });
    },

    showDrift: async v => {
      let body: JSX.Element;
      try {
        const jobs = await api.jobs();
        const job = jobs.items.find(
          j => j.kind === 'verify' && j.version === v.ref && j.result
        );
        const r = job?.result ?? null;
        body = r ? (
          <div className="jp-fermi-dialog-text">
            <FileList title={trans.__('Changed')} files={paths(r.changed)} />
            <FileList title={trans.__('Added')} files={paths(r.added)} />
            <FileList title={trans.__('Removed')} files={paths(r.removed)} />
          </div>
        ) : (
          <p>{trans.__('Run “Verify” to list the files that changed.')}</p>
        );
      } catch (e) {
        body = <p>{errorMessage(e)}</p>;
      }
      void showDialog({
        title: trans.__('What changed in %1', label(v)),
        body,
        buttons: [Dialog.okButton()]
      });
    },

    edit: async ds => {
      const body = new EditBody(ds, trans);
      const answer = await showDialog({
        title: trans.__('Edit %1', ds.name),
        body,
        buttons: [Dialog.cancelButton(), Dialog.okButton({ label: trans.__('Save') })]
      });
      if (!answer.button.accept || !answer.value) {
        return;
      }
      try {
        await api.updateDataset(ds.id, answer.value);
        await model.refreshDatasets();
      } catch (e) {
        fail(trans.__('Could not change %1', ds.name))(e);
      }
    }
  };
}
