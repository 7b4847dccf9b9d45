/** The wizard in a main-area tab. */
import { ReactWidget } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import React from 'react';

import { Wizard } from '../components/Wizard';
import { WizardModel } from '../wizard';

export class WizardWidget extends ReactWidget {
  constructor(options: WizardWidget.IOptions) {
    super();
    this.model = options.model;
    this._options = options;
    this.addClass('jp-fermi-wizard-widget');
  }

  readonly model: WizardModel;

  override dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.model.dispose();
    super.dispose();
  }

  render(): JSX.Element {
    const o = this._options;
    return (
      <Wizard
        model={this.model}
        trans={o.trans}
        warnAt={o.warnAt}
        zones={o.zones}
        onDone={o.onDone}
        onCancel={o.onCancel}
      />
    );
  }

  private _options: WizardWidget.IOptions;
}

export namespace WizardWidget {
  export interface IOptions {
    model: WizardModel;
    trans: TranslationBundle;
    warnAt: number;
    zones: string[];
    onDone: () => void;
    onCancel: () => void;
  }
}
