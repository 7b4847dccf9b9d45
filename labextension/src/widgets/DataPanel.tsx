/** The left sidebar "Data": four sections in one accordion, and the wizard's button. */
import { ReactWidget } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { addIcon, SidePanel, ToolbarButton } from '@jupyterlab/ui-components';
import { AccordionPanel, Widget } from '@lumino/widgets';
import React from 'react';

import { DatasetsSection, IDatasetActions } from '../components/DatasetsSection';
import { MountsSection } from '../components/MountsSection';
import { ITransferActions, TransfersSection } from '../components/TransfersSection';
import { VolumesSection } from '../components/VolumesSection';
import { DataModel } from '../model';
import { TransfersModel } from '../transferModel';
import { IMount, ITransfer, IVolume } from '../tokens';
import { dataIcon } from './icons';
import { fairShare, fitContent, sameProportions } from './sectionSizes';

export interface IPanelSettings {
  warnAt: number;
  pageSize: number;
}

/** The sections, top to bottom (their widget ids), and their first sizes: mounts are few,
 * volumes' folders and the datasets need the room, transfers are folded. */
const SECTIONS = [
  'jp-fermi-mounts',
  'jp-fermi-volumes',
  'jp-fermi-datasets',
  'jp-fermi-transfers'
];
const DEFAULT_SIZES = [1, 2, 2, 0];

/** Lumino's message (its package is not one of ours to import). */
type Message = Parameters<Widget['processMessage']>[0];

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
    const content = this.content;
    if (content instanceof AccordionPanel) {
      // Folded before any size is set: folding computes new sizes from the current ones plus
      // the handles' spacing in pixels, which on sizes still relative (before the first
      // layout) squeezed the first sections to slivers on the panel's first showing.
      // Folded until a transfer starts here (or it is opened): the folders keep their room.
      content.collapse(SECTIONS.indexOf('jp-fermi-transfers'));
      content.setRelativeSizes(DEFAULT_SIZES);
      content.expansionToggled.connect(this._onExpansionToggled, this);
    }
    model.stateChanged.connect(this._fitOnFirstShowing, this);
    options.transfers.finished.connect(this._onTransferEnded, this);
  }

  /** A download that completed shows its files in the open folders of its volume. */
  private _onTransferEnded(_: unknown, t: ITransfer): void {
    if (t.direction !== 'download' || t.state !== 'complete') {
      return;
    }
    const id = t.sink?.volume_id;
    this.model.volumeTouched(typeof id === 'string' ? id : null);
  }

  /** Opens a section, with a fair share of the height if it has next to none, in view. */
  showSection(id: string): void {
    const content = this.content;
    const i = this.widgets.findIndex(w => w.id === id);
    if (i < 0 || !(content instanceof AccordionPanel)) {
      return;
    }
    if (this.widgets[i].isHidden) {
      content.expand(i); // _onExpansionToggled gives it its room
    } else {
      this._giveRoom(content, i);
    }
    requestAnimationFrame(() =>
      this.widgets[i].node.scrollIntoView({ block: 'nearest' })
    );
  }

  protected override onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this._fitOnFirstShowing();
  }

  protected override onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._fitOnFirstShowing();
  }

  /**
   * Lumino reopens a section at the size it had when it was folded. A section folded before
   * it was ever laid out (Transfers, folded at construction) had none, so it would open with
   * no height at all: give it a fair share instead.
   */
  private _onExpansionToggled(content: AccordionPanel, index: number): void {
    if (!content.widgets[index].isHidden) {
      this._giveRoom(content, index);
    }
  }

  private _giveRoom(content: AccordionPanel, index: number): void {
    const open = content.widgets.map(w => !w.isHidden);
    const sizes = fairShare(content.relativeSizes(), open, index);
    if (sizes) {
      content.setRelativeSizes(sizes);
    }
  }

  /**
   * The first time the panel is seen with its mounts and volumes loaded, those short lists
   * get the height their content needs (an empty state that teaches is several lines), the
   * datasets the rest; relative sizes alone cut them off in a short window. Only over the
   * default sizes: a layout JupyterLab restored, or one the user dragged, is kept.
   */
  private _fitOnFirstShowing(): void {
    const { mounts, volumes } = this.model;
    if (this._fitted || !this.isVisible || !mounts.loaded || !volumes.loaded) {
      return;
    }
    this._fitted = true;
    // after React has rendered the lists and Lumino has laid the sections out
    requestAnimationFrame(() =>
      requestAnimationFrame(() => {
        const content = this.content;
        if (!(content instanceof AccordionPanel) || !this.isVisible) {
          this._fitted = false; // hidden meanwhile: at the next showing
          return;
        }
        // a layout JupyterLab restored can have an open section with no room (Transfers
        // reopened at its folded size): give each such section a fair share first
        content.widgets.forEach((w, i) => {
          if (!w.isHidden) {
            this._giveRoom(content, i);
          }
        });
        this._fit(content, DEFAULT_SIZES);
      })
    );
  }

  /**
   * Fit the short lists to their content if the sizes are still `reference` (ours: not
   * dragged, not restored). While they stay ours, content that grows after the first fit (a
   * usage bar, a late font) is fitted again, so the lists are never cut off by a few pixels.
   */
  private _fit(content: AccordionPanel, reference: number[]): void {
    const open = content.widgets.map(w => !w.isHidden);
    if (!sameProportions(content.relativeSizes(), reference, open)) {
      this._stopRefitting();
      return;
    }
    const grow = [
      SECTIONS.indexOf('jp-fermi-mounts'),
      SECTIONS.indexOf('jp-fermi-volumes')
    ];
    const sizes = fitContent({
      heights: content.widgets.map(w => w.node.offsetHeight),
      needs: content.widgets.map(w => w.node.scrollHeight),
      open,
      grow
    });
    if (sizes) {
      content.setRelativeSizes(sizes);
    }
    const ours = content.relativeSizes();
    if (typeof ResizeObserver === 'undefined') {
      return;
    }
    if (!this._refit) {
      this._refit = new ResizeObserver(() =>
        requestAnimationFrame(() => this._fit(content, this._ours ?? ours))
      );
    }
    this._ours = ours;
    for (const i of grow) {
      for (const child of Array.from(content.widgets[i].node.children)) {
        if (!this._observed.has(child)) {
          this._observed.add(child); // (observing calls back once: that fit finds no change)
          this._refit.observe(child);
        }
      }
    }
  }

  private _stopRefitting(): void {
    this._refit?.disconnect();
    this._refit = null;
    this._ours = null;
    this._observed = new WeakSet();
  }

  override dispose(): void {
    this._stopRefitting();
    super.dispose();
  }

  private _refit: ResizeObserver | null = null;
  private _ours: number[] | null = null;
  private _observed = new WeakSet<Element>();
  private _fitted = false;
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
