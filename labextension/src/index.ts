/**
 * fermi_jupyter's JupyterLab plugins: the server API, and the "Data" sidebar with its wizard,
 * file-browser menu entry, live updates, notifications and status bar item.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, MainAreaWidget, Notification } from '@jupyterlab/apputils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';
import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';

import { CredentialsModel } from './credentials';
import { EventHub } from './events';
import { DataModel } from './model';
import { FermiApi } from './request';
import {
  CommandIDs,
  DOMAIN,
  IFermiApi,
  IMount,
  IVersion,
  IVolume,
  PluginIDs
} from './tokens';
import { TransfersModel } from './transferModel';
import { WizardModel } from './wizard';
import { copyMountPath, createActions } from './widgets/actions';
import { DataPanel } from './widgets/DataPanel';
import { dataIcon } from './widgets/icons';
import { StatusItem } from './widgets/StatusItem';
import {
  createTransferActions,
  credentialsOpener,
  notifyTransfers,
  transferOpener
} from './widgets/transferActions';
import { WizardWidget } from './widgets/WizardWidget';

interface ISettings {
  warnAt: number;
  pageSize: number;
  datasetPageSize: number;
  zones: string[];
  notify: boolean;
  notificationSeconds: number;
}

const DEFAULTS: ISettings = {
  warnAt: 0.9,
  pageSize: 200,
  datasetPageSize: 200,
  zones: [],
  notify: true,
  notificationSeconds: 10
};

async function loadSettings(registry: ISettingRegistry | null): Promise<ISettings> {
  if (!registry) {
    return DEFAULTS;
  }
  try {
    const s = await registry.load(PluginIDs.sidebar);
    return { ...DEFAULTS, ...(s.composite as Partial<ISettings>) };
  } catch (e) {
    console.warn('fermi-jupyter: settings not loaded, using defaults', e);
    return DEFAULTS;
  }
}

const apiPlugin: JupyterFrontEndPlugin<IFermiApi> = {
  id: PluginIDs.api,
  description: 'Calls to the fermi_jupyter server extension.',
  autoStart: true,
  provides: IFermiApi,
  activate: (app: JupyterFrontEnd): IFermiApi =>
    new FermiApi(app.serviceManager.serverSettings)
};

/** A folder of the file browser → the volume mount it is in and its path in the volume. */
function locateFolder(
  model: DataModel,
  browserPath: string
): { mount: IMount; path: string } | null {
  let best: IMount | null = null;
  for (const m of model.mounts.items) {
    const root = m.browser_path;
    if (root === null || root === undefined) {
      continue;
    }
    const inside =
      root === '' ||
      browserPath === root ||
      browserPath.startsWith(root.replace(/\/$/, '') + '/');
    if (inside && (!best || root.length > (best.browser_path ?? '').length)) {
      best = m;
    }
  }
  if (!best || best.kind !== 'volume' || best.read_only || !best.volume_id) {
    return null; // dataset mounts are read-only and registered already
  }
  const root = best.browser_path ?? '';
  const rel = browserPath === root ? '' : browserPath.slice(root ? root.length + 1 : 0);
  const path = [best.sub_path ?? '', rel].filter(Boolean).join('/');
  return { mount: best, path };
}

/**
 * Tells when a registration this tab saw running ends. ``registering``: the "Registering…"
 * notification of each registration started here, by version ref; the outcome's replaces it,
 * so the notification list keeps one entry a registration.
 */
function notifyChanges(
  model: DataModel,
  trans: TranslationBundle,
  settings: ISettings,
  reveal: (datasetId: string) => void,
  registering: Map<string, string>
): void {
  const tell = (
    ref: string,
    message: string,
    type: 'success' | 'error',
    options: { autoClose: number; actions: Notification.IAction[] }
  ) => {
    // dismissed and replaced rather than updated in place: Lab keeps a toast's first type in
    // its class, and a "ready" toast would wear the "Registering" one's colour
    const id = registering.get(ref);
    registering.delete(ref);
    if (id !== undefined) {
      Notification.dismiss(id);
    }
    Notification.emit(message, type, options);
  };
  model.versionChanged.connect((_, { version, previous }) => {
    // only registrations this tab saw running: not every change of every visible dataset
    if (!settings.notify || (previous !== 'pending' && previous !== 'processing')) {
      return;
    }
    const open = {
      label: trans.__('Open dataset'),
      callback: () => reveal(version.dataset_id)
    };
    const autoClose = settings.notificationSeconds * 1000;
    if (version.status === 'ready') {
      tell(version.ref, trans.__('%1 is ready', version.label), 'success', {
        autoClose,
        actions: [
          open,
          {
            label: trans.__('Copy mount path'),
            callback: () => copyMountPath(model, version, trans)
          }
        ]
      });
    } else if (version.status === 'failed') {
      const why = version.error ?? trans.__('no reason given');
      tell(version.ref, trans.__('%1 failed: %2', version.label, why), 'error', {
        autoClose: autoClose * 2,
        actions: [open]
      });
    }
  });
}

const sidebarPlugin: JupyterFrontEndPlugin<void> = {
  id: PluginIDs.sidebar,
  description: 'The Data sidebar: mounts, volumes, datasets and the register wizard.',
  autoStart: true,
  requires: [IFermiApi],
  optional: [
    ITranslator,
    ISettingRegistry,
    ILayoutRestorer,
    IDefaultFileBrowser,
    IStatusBar,
    ICommandPalette
  ],
  activate: async (
    app: JupyterFrontEnd,
    api: IFermiApi,
    translator: ITranslator | null,
    registry: ISettingRegistry | null,
    restorer: ILayoutRestorer | null,
    browser: IDefaultFileBrowser | null,
    statusBar: IStatusBar | null,
    palette: ICommandPalette | null
  ) => {
    const trans = (translator ?? nullTranslator).load(DOMAIN);
    const settings = await loadSettings(registry);
    const model = new DataModel({ api, pageSize: settings.datasetPageSize });
    const registering = new Map<string, string>(); // version ref → its notification's id
    const { commands, shell } = app;

    const openWizard = async (start?: { volume: IVolume; path: string }) => {
      const wizard = new WizardModel({ api, pageSize: settings.pageSize });
      let main: MainAreaWidget<WizardWidget> | null = null;
      const content = new WizardWidget({
        model: wizard,
        trans,
        warnAt: settings.warnAt,
        zones: [
          ...new Set([
            ...settings.zones,
            ...model.volumes.items.map(v => v.zone ?? '').filter(Boolean)
          ])
        ],
        onCancel: () => main?.dispose(),
        onDone: () => {
          const v: IVersion | null = wizard.result;
          if (v) {
            model.addVersion(v);
            registering.set(
              v.ref,
              Notification.info(
                trans.__('Registering %1: you will be told when it is ready.', v.label),
                { autoClose: 5000 }
              )
            );
            reveal(v.dataset_id);
          }
          main?.dispose();
        }
      });
      main = new MainAreaWidget({ content });
      main.id = `jp-fermi-wizard-${Date.now()}`;
      main.title.label = trans.__('Create dataset');
      main.title.icon = dataIcon;
      main.title.closable = true;
      shell.add(main, 'main');
      shell.activateById(main.id);
      if (start) {
        await wizard.loadVolumes();
        await wizard.startAt(start.volume, start.path);
      }
    };

    const transfers = new TransfersModel({
      api,
      names: {
        volume: id => model.volumes.items.find(v => v.id === id)?.name,
        dataset: id => model.datasetById(id)?.name
      }
    });
    const showTransfers = () => {
      shell.activateById(panel.id);
      panel.showSection('jp-fermi-transfers');
    };
    // one list of your credentials: the Credentials tab and every open transfer form
    const credentials = new CredentialsModel(api);
    const opener = transferOpener({
      api,
      model: transfers,
      credentials,
      trans,
      shell,
      reveal: () => showTransfers(),
      // the new volume joins the sidebar, and the list names it rather than its id
      volumeCreated: () =>
        void model.refreshVolumes().then(() => transfers.stateChanged.emit())
    });
    const openCredentials = credentialsOpener(credentials, trans, shell);
    const actions = {
      ...createActions(model, trans, () => void openWizard()),
      exportVersion: (v: IVersion) =>
        opener.open('upload', {
          kind: 'dataset',
          version: v.ref, // ds-…@N: unambiguous whoever owns the dataset
          label: v.label
        })
    };
    const volumeOf = (id: string, name?: string | null): IVolume =>
      model.volumes.items.find(v => v.id === id) ?? {
        id,
        name: name ?? id,
        owner: '',
        capacity_bytes: 0,
        type: '',
        usage: null,
        mount_path: null
      };

    const panel = new DataPanel({
      model,
      trans,
      translator: translator ?? nullTranslator,
      settings,
      actions,
      onCreate: () => void openWizard(),
      onOpenMount: m => {
        if (m.browser_path !== null) {
          void commands.execute('filebrowser:go-to-path', { path: m.browser_path });
        }
      },
      onRegister: (volume, path) => void openWizard({ volume, path }),
      onTransfer: (direction, volume, path) =>
        opener.open(direction, {
          kind: 'volume',
          volumeId: volume.id,
          volumeName: volume.name,
          path
        }),
      transfers,
      transferActions: createTransferActions(transfers, trans, openCredentials)
    });

    const reveal = (datasetId: string) => {
      shell.activateById(panel.id);
      if (!model.datasetById(datasetId) && (model.query || model.scope !== 'all')) {
        model.query = '';
        model.setScope('all');
      }
      if (!model.expanded.has(datasetId)) {
        void model.toggle(datasetId);
      }
      requestAnimationFrame(() =>
        panel.node
          .querySelector(`[data-dataset="${datasetId}"]`)
          ?.scrollIntoView({ block: 'nearest' })
      );
    };

    shell.add(panel, 'left', { rank: 300 });
    restorer?.add(panel, 'fermi-data');

    commands.addCommand(CommandIDs.openPanel, {
      label: trans.__('Open the Data panel'),
      execute: () => shell.activateById(panel.id)
    });
    commands.addCommand(CommandIDs.createDataset, {
      label: trans.__('Create dataset from volume…'),
      icon: dataIcon,
      execute: () => openWizard()
    });
    commands.addCommand(CommandIDs.refresh, {
      label: trans.__('Reload the Data panel'),
      execute: () => model.refresh()
    });
    const selectedFolder = () => {
      const item = browser?.selectedItems().next();
      const value = item && !item.done ? item.value : null;
      return value && value.type === 'directory'
        ? locateFolder(model, value.path)
        : null;
    };
    commands.addCommand(CommandIDs.registerFolder, {
      label: trans.__('Register as dataset version…'),
      icon: dataIcon,
      isVisible: () => selectedFolder() !== null,
      execute: async () => {
        const target = selectedFolder();
        if (target) {
          const volume = volumeOf(
            target.mount.volume_id ?? '',
            target.mount.volume_name
          );
          await openWizard({ volume, path: target.path });
        }
      }
    });

    notifyChanges(model, trans, settings, reveal, registering);
    notifyTransfers(
      transfers,
      trans,
      settings.notificationSeconds,
      showTransfers,
      () => settings.notify
    );
    commands.addCommand(CommandIDs.importData, {
      label: trans.__('Import data…'),
      icon: dataIcon,
      isVisible: () => selectedFolder() !== null,
      execute: () => {
        const target = selectedFolder();
        if (target) {
          const volume = volumeOf(
            target.mount.volume_id ?? '',
            target.mount.volume_name
          );
          opener.open('download', {
            kind: 'volume',
            volumeId: volume.id,
            volumeName: volume.name,
            path: target.path
          });
        }
      }
    });

    commands.addCommand(CommandIDs.credentials, {
      label: trans.__('Transfer credentials…'),
      caption: trans.__('Your stored tokens and keys for Git, Hugging Face and S3'),
      icon: dataIcon,
      execute: () => openCredentials()
    });
    // the panel's own commands (the folder ones need a folder selected in the file browser)
    for (const command of [
      CommandIDs.openPanel,
      CommandIDs.createDataset,
      CommandIDs.credentials,
      CommandIDs.refresh
    ]) {
      palette?.addItem({ command, category: trans.__('Data') });
    }

    if (statusBar) {
      const item = new StatusItem(model, trans, () => shell.activateById(panel.id));
      statusBar.registerStatusItem(PluginIDs.status, {
        item,
        align: 'left',
        rank: 50,
        isActive: () => model.running.length > 0,
        activeStateChanged: model.stateChanged
      });
    }

    const hub = new EventHub({
      url: last => api.eventsUrl(last),
      name: `fermi-jupyter-events:${app.serviceManager.serverSettings.baseUrl}`
    });
    hub.received.connect((_, event) => model.applyEvent(event));
    hub.transferReceived.connect((_, event) => transfers.applyEvent(event));
    hub.resync.connect(() => {
      model.requestResync();
      void transfers.refresh();
    });
    void model.refresh();
    void transfers.refresh();
    void app.restored.then(() => hub.start());
  }
};

export default [apiPlugin, sidebarPlugin];
