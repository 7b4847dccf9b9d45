/**
 * "Volumes": usage against each volume's quota, which work its type suits, and its folders,
 * browsed lazily, with "Register as dataset…" on each folder.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import {
  caretDownIcon,
  caretRightIcon,
  downloadIcon,
  fileUploadIcon
} from '@jupyterlab/ui-components';
import { ISignal } from '@lumino/signaling';
import React, { useEffect, useMemo, useState } from 'react';

import { ltr } from '../format';
import { DataModel } from '../model';
import { IFermiApi, ITreeEntry, IVolume } from '../tokens';
import { DirectoryModel } from '../tree';
import { DirectoryBrowser } from './DirectoryBrowser';
import { EmptyState, ErrorNote } from './EmptyState';
import { UsageBar } from './UsageBar';
import { useModel } from './useModel';

/** Which work a volume type suits (the platform review asks the UI to say it). */
export function typeAdvice(type: string, trans: TranslationBundle): string {
  switch (type) {
    case 'ssd':
      return trans.__(
        'SSD: fast random reads. Best for many small files (image datasets), training inputs and checkpoints.'
      );
    case 'hdd':
      return trans.__(
        'HDD: large and cheap, for big files read in order: video, large corpora, archives.'
      );
    case 'shared':
      return trans.__(
        'Shared: many servers read and write at once. For team work and distributed training; slower than SSD.'
      );
    default:
      return type;
  }
}

export function typeName(type: string, trans: TranslationBundle): string {
  switch (type) {
    case 'ssd':
      return trans.__('SSD');
    case 'hdd':
      return trans.__('HDD');
    case 'shared':
      return trans.__('Shared');
    default:
      return type;
  }
}

function VolumeItem(props: {
  volume: IVolume;
  api: IFermiApi;
  /** a volume's content changed (its id): the open folder is read again */
  changed: ISignal<DataModel, string>;
  trans: TranslationBundle;
  warnAt: number;
  pageSize: number;
  onRegister: (volume: IVolume, path: string) => void;
  onTransfer?: (
    direction: 'download' | 'upload',
    volume: IVolume,
    path: string
  ) => void;
}): JSX.Element {
  const { volume, trans } = props;
  const [open, setOpen] = useState(false);
  const directory = useMemo(
    () =>
      new DirectoryModel({
        api: props.api,
        volumeId: volume.id,
        pageSize: props.pageSize
      }),
    [props.api, volume.id, props.pageSize]
  );
  useModel(directory);
  useEffect(() => {
    // files that landed here (a download completed) show without a manual refresh
    const reload = (_: unknown, id: string) => {
      if (id === volume.id && directory.loaded) {
        void directory.reload();
      }
    };
    props.changed.connect(reload);
    return () => {
      props.changed.disconnect(reload);
    };
  }, [props.changed, directory, volume.id]);
  const transfer = props.onTransfer;
  const register = (entry: ITreeEntry) => (
    <>
      <button
        className="jp-fermi-link"
        onClick={e => {
          e.stopPropagation();
          props.onRegister(volume, entry.path);
        }}
      >
        {trans.__('Register as dataset…')}
      </button>
      {transfer && (
        <>
          <button
            className="jp-fermi-icon-button"
            data-action="import"
            title={trans.__('Import data…')}
            aria-label={trans.__('Import data…')}
            onClick={e => {
              e.stopPropagation();
              transfer('download', volume, entry.path);
            }}
          >
            <downloadIcon.react tag="span" />
          </button>
          <button
            className="jp-fermi-icon-button"
            data-action="export"
            title={trans.__('Export…')}
            aria-label={trans.__('Export…')}
            onClick={e => {
              e.stopPropagation();
              transfer('upload', volume, entry.path);
            }}
          >
            <fileUploadIcon.react tag="span" />
          </button>
        </>
      )}
    </>
  );
  const Caret = open ? caretDownIcon : caretRightIcon;
  return (
    <li className="jp-fermi-volume" data-volume={volume.id}>
      <button
        className="jp-fermi-volume-head"
        aria-expanded={open}
        onClick={() => setOpen(!open)}
      >
        <Caret.react tag="span" />
        <span className="jp-fermi-volume-name">{volume.name}</span>
        <span className="jp-fermi-kind" title={typeAdvice(volume.type, trans)}>
          {typeName(volume.type, trans)}
        </span>
      </button>
      {volume.mount_path && (
        <div className="jp-fermi-path" title={volume.mount_path}>
          {trans.__('at %1', ltr(volume.mount_path))}
        </div>
      )}
      <UsageBar
        used={volume.usage?.bytes}
        capacity={volume.capacity_bytes}
        warnAt={props.warnAt}
        trans={trans}
      />
      <div className="jp-fermi-advice">{typeAdvice(volume.type, trans)}</div>
      {open && (
        <div className="jp-fermi-volume-tree">
          <DirectoryBrowser model={directory} trans={trans} renderActions={register} />
          <button
            className="jp-fermi-button"
            onClick={() => props.onRegister(volume, directory.path)}
          >
            {directory.path
              ? trans.__('Register “%1” as dataset…', directory.path)
              : trans.__('Register the whole volume as dataset…')}
          </button>
          {transfer && (
            <button
              className="jp-fermi-button"
              data-action="import-here"
              onClick={() => transfer('download', volume, directory.path)}
            >
              {directory.path
                ? trans.__('Import data into “%1”…', directory.path)
                : trans.__('Import data into the volume…')}
            </button>
          )}
        </div>
      )}
    </li>
  );
}

export function VolumesSection(props: {
  model: DataModel;
  trans: TranslationBundle;
  warnAt: number;
  pageSize: number;
  onRegister: (volume: IVolume, path: string) => void;
  onTransfer?: (
    direction: 'download' | 'upload',
    volume: IVolume,
    path: string
  ) => void;
}): JSX.Element {
  const { model, trans } = props;
  useModel(model);
  const { items, error, loaded } = model.volumes;
  if (error) {
    return (
      <ErrorNote
        message={error}
        retryLabel={trans.__('Try again')}
        onRetry={() => void model.refreshVolumes()}
      />
    );
  }
  if (!loaded) {
    return <div className="jp-fermi-muted jp-fermi-pad">{trans.__('Loading…')}</div>;
  }
  if (items.length === 0) {
    return (
      <EmptyState title={trans.__('No volumes yet')}>
        {trans.__(
          'A volume is your own read-write space. Create one on the spawn form (“Mount volume” › New volume), put data in it, then register a folder of it as a dataset.'
        )}
      </EmptyState>
    );
  }
  return (
    <ul className="jp-fermi-volumes" aria-label={trans.__('Volumes')}>
      {items.map(v => (
        <VolumeItem
          key={v.id}
          volume={v}
          api={model.api}
          changed={model.volumeChanged}
          trans={trans}
          warnAt={props.warnAt}
          pageSize={props.pageSize}
          onRegister={props.onRegister}
          onTransfer={props.onTransfer}
        />
      ))}
    </ul>
  );
}
