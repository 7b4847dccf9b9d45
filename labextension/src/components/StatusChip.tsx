import { TranslationBundle } from '@jupyterlab/translation';
import React from 'react';

import { VersionStatus } from '../tokens';

export function statusLabel(
  status: VersionStatus | string,
  trans: TranslationBundle
): string {
  switch (status) {
    case 'pending':
      return trans.__('pending');
    case 'processing':
      return trans.__('processing');
    case 'ready':
      return trans.__('ready');
    case 'failed':
      return trans.__('failed');
    case 'drifted':
      return trans.__('drifted');
    case 'cancelled':
      return trans.__('cancelled');
    default:
      return status;
  }
}

/** A version's status as a coloured chip (colour and words, never colour alone). */
export function StatusChip(props: {
  status: VersionStatus | string;
  trans: TranslationBundle;
}): JSX.Element {
  return (
    <span
      className={`jp-fermi-chip jp-fermi-chip-${props.status}`}
      data-status={props.status}
    >
      {statusLabel(props.status, props.trans)}
    </span>
  );
}
