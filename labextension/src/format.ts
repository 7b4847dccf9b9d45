/** Numbers for people: sizes, durations, times. Pure functions. */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !isFinite(n)) {
    return '—';
  }
  let value = Math.max(0, n);
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = unit === 0 || value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined || !isFinite(n)) {
    return '—';
  }
  return Math.round(n).toLocaleString('en-US');
}

/** 75 → "1 min 15 s"; 4000 → "1 h 6 min". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !isFinite(seconds) || seconds < 0) {
    return '—';
  }
  const s = Math.round(seconds);
  if (s < 60) {
    return `${s} s`;
  }
  const m = Math.floor(s / 60);
  if (m < 60) {
    const rest = s % 60;
    return rest ? `${m} min ${rest} s` : `${m} min`;
  }
  const h = Math.floor(m / 60);
  const rest = m % 60;
  return rest ? `${h} h ${rest} min` : `${h} h`;
}

export function formatTime(iso: string | number | null | undefined): string {
  if (iso === null || iso === undefined || iso === '') {
    return '—';
  }
  const date = typeof iso === 'number' ? new Date(iso) : new Date(iso);
  if (isNaN(date.getTime())) {
    return String(iso);
  }
  const pad = (x: number) => String(x).padStart(2, '0');
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}`
  );
}

export type UsageLevel = 'ok' | 'warn' | 'full' | 'unknown';

/** A volume's usage against its quota: `warn` from 90 %, `full` at 100 %. */
export function usageLevel(
  used: number | null | undefined,
  capacity: number | null | undefined,
  warnAt = 0.9
): { fraction: number | null; level: UsageLevel } {
  if (used === null || used === undefined || !capacity) {
    return { fraction: null, level: 'unknown' };
  }
  const fraction = used / capacity;
  const level = fraction >= 1 ? 'full' : fraction >= warnAt ? 'warn' : 'ok';
  return { fraction, level };
}

/** Relative path of `path` under `root`, or null when it is outside. Both absolute, "/"-separated. */
export function relativeTo(path: string, root: string): string | null {
  const clean = (p: string) => (p.length > 1 ? p.replace(/\/+$/, '') : p);
  const p = clean(path);
  const r = clean(root);
  if (r === '' || r === '/') {
    return p.replace(/^\/+/, '');
  }
  if (p === r) {
    return '';
  }
  return p.startsWith(r + '/') ? p.slice(r.length + 1) : null;
}

/** Joins a root and a relative path with one slash. */
export function joinPath(root: string, rel: string): string {
  if (!rel) {
    return root;
  }
  return root.replace(/\/+$/, '') + '/' + rel.replace(/^\/+/, '');
}

/**
 * A path shown right-to-left (so a long one is cut at its start, keeping its end) must keep
 * its slashes where they are: left-to-right marks around it do that.
 */
export function ltr(path: string): string {
  return `\u200e${path}\u200e`;
}
