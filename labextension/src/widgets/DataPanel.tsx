/** The left sidebar "Data": four sections in one accordion, and the wizard's button. */
import { ReactWidget } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { addIcon, SidePanel, ToolbarButton } from '@jupyterlab/ui-components';
import { AccordionPanel } from '@lumino/widgets';
import React from 'react';

import { DatasetsSection, IDatasetActions } from '../components/DatasetsSection';
import { MountsSection } from '../components/MountsSection';
import { ITransferActions, TransfersSection } from '../components/TransfersSection';
import { VolumesSection } from '../components/VolumesSection';
import { DataModel } from '../model';
import { TransfersModel } from '../transferModel';
import { IMount, IVolume } from '../tokens';
import { dataIcon } from './icons';

export interface IPanelSettings {
  warnAt: number;
  pageSize: number;
}

export class DataPanel extends SidePanel {
  constructor(options: DataPanel.IOptions) {
    super({ translator: options.translator });
    const { model, trans, settings } = options;
    this.model = model;
    this.id = 'jp-fermi-data';
    this.addClass('jp-fermi-panel');
    this.title.icon = dataIcon;
    this.title.caption = trans.__('Data: datasets and volumes');

    const header = document.createElement('h2');
    header.textContent = trans.__('Data');
    header.className = 'jp-fermi-panel-title';
    this.header.node.appendChild(header);
    this.toolbar.addItem(
      'create',
      new ToolbarButton({
        icon: addIcon,
        label: trans.__('Create dataset from volume'),
        tooltip: trans.__('Register a folder of a volume as a dataset'),
        onClick: options.onCreate
      })
    );

    const mounts = ReactWidget.create(
      <MountsSection model={model} trans={trans} onOpen={options.onOpenMount} />
    );
    mounts.title.label = trans.__('Mounted here');
    mounts.addClass('jp-fermi-section');
    mounts.id = 'jp-fermi-mounts';
    const volumes = ReactWidget.create(
      <VolumesSection
        model={model}
        trans={trans}
        warnAt={settings.warnAt}
        pageSize={settings.pageSize}
        onRegister={options.onRegister}
        onTransfer={options.onTransfer}
      />
    );
    volumes.title.label = trans.__('Volumes');
    volumes.addClass('jp-fermi-section');
    volumes.id = 'jp-fermi-volumes';
    const datasets = ReactWidget.create(
      <DatasetsSection model={model} trans={trans} actions={options.actions} />
    );
    datasets.title.label = trans.__('Datasets');
    datasets.addClass('jp-fermi-section');
    datasets.id = 'jp-fermi-datasets';
    const transfers = ReactWidget.create(
      <TransfersSection
        model={options.transfers}
        trans={trans}
        actions={options.transferActions}
      />
    );
    transfers.title.label = trans.__('Transfers');
    transfers.addClass('jp-fermi-section');
    transfers.id = 'jp-fermi-transfers';
    this.addWidget(mounts);
    this.addWidget(volumes);
    this.addWidget(datasets);
    this.addWidget(transfers);
    // mounts are few; volumes' folders and the datasets need the room
    if (this.content instanceof AccordionPanel) {
      this.content.setRelativeSizes([1, 2, 2, 1]);
      // folded until a transfer starts here (or it is opened): the folders keep their room
      this.content.collapse(3);
    }
  }

  readonly model: DataModel;
}

export namespace DataPanel {
  export interface IOptions {
    model: DataModel;
    trans: TranslationBundle;
    translator: import('@jupyterlab/translation').ITranslator;
    settings: IPanelSettings;
    actions: IDatasetActions;
    onCreate: () => void;
    onOpenMount: (mount: IMount) => void;
    onRegister: (volume: IVolume, path: string) => void;
    onTransfer: (
      direction: 'download' | 'upload',
      volume: IVolume,
      path: string
    ) => void;
    transfers: TransfersModel;
    transferActions: ITransferActions;
  }
}
