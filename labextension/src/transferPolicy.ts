/**
 * The execution policy of a transfer as the form takes it: the deadline with its unit, extra
 * arguments typed as on a command line, and environment rows. Bounds as the registry's
 * (fermi_jupyter/transfers/spec.py); the registry's allow-list of arguments is its own.
 */
import { TranslationBundle } from '@jupyterlab/translation';

export type DeadlineUnit = 'seconds' | 'minutes' | 'hours';

/** One row of the extra environment. */
export interface IEnvRow {
  name: string;
  value: string;
}

/** As the registry allows (fermi_jupyter/transfers/spec.py). */
export const MAX_RETRIES = 10;
export const MAX_DEADLINE_SECONDS = 7 * 24 * 3600;
export const MAX_ENV = 50;
const UNIT_SECONDS: Record<DeadlineUnit, number> = {
  seconds: 1,
  minutes: 60,
  hours: 3600
};

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** The deadline in seconds; null when not a whole number in range; undefined when empty. */
export function deadlineSeconds(
  deadline: string,
  unit: DeadlineUnit
): number | null | undefined {
  const text = deadline.trim();
  if (text === '') {
    return undefined;
  }
  if (!/^\d+$/.test(text)) {
    return null;
  }
  const seconds = Number(text) * UNIT_SECONDS[unit];
  return seconds >= 1 && seconds <= MAX_DEADLINE_SECONDS ? seconds : null;
}

/**
 * Extra arguments as a shell would split them: spaces separate, '…' and "…" quote
 * (`--include "*.json"`). Null when a quote is left open. No expansion of any kind.
 */
export function splitArgs(text: string): string[] | null {
  const out: string[] = [];
  let word: string | null = null;
  let quote: string | null = null;
  for (const ch of text) {
    if (quote) {
      if (ch === quote) {
        quote = null;
      } else {
        word += ch;
      }
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      word = word ?? '';
    } else if (/\s/.test(ch)) {
      if (word !== null) {
        out.push(word);
        word = null;
      }
    } else {
      word = (word ?? '') + ch;
    }
  }
  if (quote) {
    return null;
  }
  if (word !== null) {
    out.push(word);
  }
  return out;
}

/** Rows left fully empty are ignored; the rest need a valid, unrepeated name. */
export function envRows(rows: IEnvRow[]): IEnvRow[] {
  return rows
    .map(r => ({ name: r.name.trim(), value: r.value }))
    .filter(r => r.name !== '' || r.value !== '');
}

export function checkEnv(rows: IEnvRow[], trans: TranslationBundle): string | null {
  const seen = new Set<string>();
  const used = envRows(rows);
  if (used.length > MAX_ENV) {
    return trans.__('At most %1 variables.', MAX_ENV);
  }
  for (const r of used) {
    if (!ENV_NAME.test(r.name)) {
      return trans.__(
        '“%1” is not a variable name: letters, digits and “_”, not starting with a digit.',
        r.name
      );
    }
    if (seen.has(r.name)) {
      return trans.__('%1 is given twice.', r.name);
    }
    seen.add(r.name);
  }
  return null;
}
