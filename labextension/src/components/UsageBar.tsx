import { TranslationBundle } from '@jupyterlab/translation';
import React from 'react';

import { formatBytes, usageLevel } from '../format';

/** Used / capacity from the volume's own quota, with a warning in words from `warnAt`. */
export function UsageBar(props: {
  used: number | null | undefined;
  capacity: number;
  warnAt: number;
  trans: TranslationBundle;
}): JSX.Element {
  const { trans } = props;
  const { fraction, level } = usageLevel(props.used, props.capacity, props.warnAt);
  if (fraction === null) {
    return (
      <div className="jp-fermi-usage jp-fermi-usage-unknown">
        {trans.__('Usage not measured yet · capacity %1', formatBytes(props.capacity))}
      </div>
    );
  }
  const percent = Math.round(fraction * 100);
  const text = trans.__(
    '%1 of %2 used (%3 %)',
    formatBytes(props.used),
    formatBytes(props.capacity),
    percent
  );
  return (
    <div className={`jp-fermi-usage jp-fermi-usage-${level}`}>
      <div
        className="jp-fermi-usage-bar"
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.min(100, percent)}
        aria-label={text}
      >
        <div
          className="jp-fermi-usage-fill"
          style={{ width: `${Math.min(100, percent)}%` }}
        />
      </div>
      <div className="jp-fermi-usage-text">{text}</div>
      {level === 'warn' && (
        <div className="jp-fermi-usage-warning" role="status">
          {trans.__('Almost full: free some space or ask for a larger volume.')}
        </div>
      )}
      {level === 'full' && (
        <div className="jp-fermi-usage-warning" role="status">
          {trans.__('Full: writes will fail until you free some space.')}
        </div>
      )}
    </div>
  );
}
