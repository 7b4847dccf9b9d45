/** The status bar item shown while registrations run: how many, and how far. */
import { ReactWidget } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import React from 'react';

import { useModel } from '../components/useModel';
import { DataModel } from '../model';
import { progressView } from '../progress';
import { dataIcon } from './icons';

function Status(props: {
  model: DataModel;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { model, trans } = props;
  useModel(model);
  const running = model.running;
  if (running.length === 0) {
    return null;
  }
  let done = 0;
  let total = 0;
  for (const v of running) {
    const p = progressView(v.progress);
    done += p?.bytesDone ?? 0;
    total += p?.bytesTotal ?? 0;
  }
  const percent = total > 0 ? Math.round((100 * done) / total) : null;
  const text =
    running.length === 1
      ? trans.__('Registering %1', running[0].label)
      : trans.__('Registering %1 versions', running.length);
  return (
    <span className="jp-fermi-status" title={trans.__('Open the Data panel')}>
      <dataIcon.react tag="span" />
      <span>{percent === null ? text : `${text} · ${percent} %`}</span>
    </span>
  );
}

export class StatusItem extends ReactWidget {
  constructor(
    readonly model: DataModel,
    readonly trans: TranslationBundle,
    onClick: () => void
  ) {
    super();
    this.addClass('jp-fermi-status-item');
    this.node.addEventListener('click', onClick);
  }

  render(): JSX.Element {
    return <Status model={this.model} trans={this.trans} />;
  }
}
