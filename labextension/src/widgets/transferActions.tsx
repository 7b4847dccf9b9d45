/**
 * What the transfer buttons do: open the "Import data…" / "Export…" form in a main-area tab,
 * confirm a cancel, show a log, open the "Credentials" tab (a delete is confirmed first), and
 * tell the user when a transfer ends.
 */
import {
  Dialog,
  MainAreaWidget,
  Notification,
  ReactWidget,
  showDialog,
  showErrorMessage
} from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import React from 'react';

import { CredentialsView } from '../components/CredentialsView';
import { formTitle, TransferForm } from '../components/TransferForm';
import { CredentialsModel } from '../credentials';
import { ITransferActions } from '../components/TransfersSection';
import { errorMessage } from '../model';
import { TransfersModel } from '../transferModel';
import {
  describeTransfer,
  Direction,
  LocalPlace,
  newForm,
  registeredVersion
} from '../transfers';
import { ICredential, IFermiApi, ITransfer } from '../tokens';
import { dataIcon } from './icons';

export interface ITransferOpener {
  open(direction: Direction, local: LocalPlace): void;
}

/** Opens the form; a started transfer joins the list and the Transfers section is shown. */
export function transferOpener(options: {
  api: IFermiApi;
  model: TransfersModel;
  /** shared with the Credentials tab: the picker follows what is stored or deleted there */
  credentials: CredentialsModel;
  trans: TranslationBundle;
  shell: {
    add: (w: MainAreaWidget, area: 'main') => void;
    activateById: (id: string) => void;
  };
  reveal: () => void;
  /** a download made a new volume: the sidebar lists it */
  volumeCreated?: () => void;
}): ITransferOpener {
  const { api, model, trans, shell } = options;
  return {
    open: (direction, local) => {
      const initial = newForm(direction, local);
      let main: MainAreaWidget | null = null;
      const content = ReactWidget.create(
        <TransferForm
          initial={initial}
          api={api}
          credentials={options.credentials}
          trans={trans}
          onCancel={() => main?.dispose()}
          onStarted={(t, body) => {
            model.add(t);
            const made = body.sink.create_volume as { name?: string } | undefined;
            if (made) {
              options.volumeCreated?.();
            }
            // a volume made just now is not listed yet: named from the request
            const names = {
              ...model.names,
              volume: (id: string) =>
                model.names.volume?.(id) ??
                (made && id === t.sink?.volume_id ? made.name : undefined)
            };
            Notification.info(
              direction === 'download'
                ? trans.__('Import started: %1', describeTransfer(t, names))
                : trans.__('Export started: %1', describeTransfer(t, names)),
              { autoClose: 5000 }
            );
            main?.dispose();
            options.reveal();
          }}
        />
      );
      content.addClass('jp-fermi-wizard-widget');
      content.addClass('jp-fermi-transfer-widget');
      main = new MainAreaWidget({ content });
      main.id = `jp-fermi-transfer-${Date.now()}`;
      main.title.label = formTitle(initial, trans);
      main.title.icon = dataIcon;
      main.title.closable = true;
      shell.add(main, 'main');
      shell.activateById(main.id);
    }
  };
}

type Shell = {
  add: (w: MainAreaWidget, area: 'main') => void;
  activateById: (id: string) => void;
};

/** Asks before deleting: transfers naming the credential fail until it is stored again. */
export async function confirmDeleteCredential(
  model: CredentialsModel,
  c: ICredential,
  trans: TranslationBundle
): Promise<boolean> {
  const answer = await showDialog({
    title: trans.__('Delete credential %1?', c.name),
    body: trans.__(
      'Transfers that name it fail until a credential of that name is stored again. Its value cannot be recovered.'
    ),
    buttons: [
      Dialog.cancelButton({ label: trans.__('Keep it') }),
      Dialog.warnButton({ label: trans.__('Delete') })
    ]
  });
  if (!answer.button.accept) {
    return false;
  }
  try {
    await model.remove(c.name);
    return true;
  } catch (e) {
    await showErrorMessage(trans.__('Could not delete %1', c.name), errorMessage(e));
    return false;
  }
}

/**
 * One "Credentials" tab: opened, or brought to the front (and reloaded) when open already.
 * Its model is the sidebar's, shared with the transfer forms, so it outlives the tab.
 */
export function credentialsOpener(
  model: CredentialsModel,
  trans: TranslationBundle,
  shell: Shell
): () => void {
  let main: MainAreaWidget | null = null;
  return () => {
    if (main && !main.isDisposed) {
      shell.activateById(main.id);
      void model.refresh();
      return;
    }
    const content = ReactWidget.create(
      <CredentialsView
        model={model}
        trans={trans}
        onDelete={c => void confirmDeleteCredential(model, c, trans)}
      />
    );
    content.addClass('jp-fermi-wizard-widget');
    content.addClass('jp-fermi-credentials-widget');
    main = new MainAreaWidget({ content });
    main.id = 'jp-fermi-credentials';
    main.title.label = trans.__('Credentials');
    main.title.icon = dataIcon;
    main.title.closable = true;
    shell.add(main, 'main');
    shell.activateById(main.id);
    void model.refresh();
  };
}

export function createTransferActions(
  model: TransfersModel,
  trans: TranslationBundle,
  openCredentials: () => void
): ITransferActions {
  return {
    openCredentials,
    cancel: async t => {
      const answer = await showDialog({
        title: trans.__('Cancel this transfer?'),
        body: trans.__(
          '%1 — what was copied so far is removed; nothing half-done is left behind.',
          describeTransfer(t, model.names)
        ),
        buttons: [
          Dialog.cancelButton({ label: trans.__('Keep transferring') }),
          Dialog.warnButton({ label: trans.__('Cancel transfer') })
        ]
      });
      if (answer.button.accept) {
        await model
          .cancel(t.id)
          .catch(e => showErrorMessage(trans.__('Could not cancel'), errorMessage(e)));
      }
    },
    showLog: async t => {
      let body: JSX.Element;
      try {
        const log = await model.api.transferLog(t.id);
        body = (
          <pre className="jp-fermi-log" data-transfer={t.id}>
            {log.text || trans.__('The log is empty so far.')}
          </pre>
        );
      } catch (e) {
        body = <p>{errorMessage(e)}</p>;
      }
      await showDialog({
        title: trans.__('Log of %1', t.id),
        body,
        buttons: [Dialog.okButton({ label: trans.__('Close') })]
      });
    }
  };
}

/** A notification when a transfer this tab saw running ends. */
export function notifyTransfers(
  model: TransfersModel,
  trans: TranslationBundle,
  seconds: number,
  reveal: () => void,
  enabled: () => boolean
): void {
  model.finished.connect((_, t: ITransfer) => {
    if (!enabled()) {
      return;
    }
    const what = describeTransfer(t, model.names);
    const registered = registeredVersion(t, model.names);
    const show = { label: trans.__('Show transfers'), callback: reveal };
    if (t.state === 'complete') {
      const text = registered
        ? trans.__('Transfer complete: %1 (dataset %2)', what, registered)
        : trans.__('Transfer complete: %1', what);
      Notification.success(text, { autoClose: seconds * 1000, actions: [show] });
    } else if (t.state === 'failed') {
      Notification.error(
        trans.__(
          'Transfer failed: %1: %2',
          what,
          t.error || t.reason || trans.__('no reason given')
        ),
        { autoClose: seconds * 2000, actions: [show] }
      );
    }
  });
}
