/**
 * What a progress report means for people: the fraction done and whether it has stalled.
 * Rate, time left and "stalled since" are computed by the server extension from the samples it
 * saw; this only reads them.
 */
import { IProgress } from './tokens';

export interface IProgressView {
  fraction: number | null;
  filesDone: number;
  filesTotal: number | null;
  bytesDone: number;
  bytesTotal: number | null;
  rate: number | null;
  eta: number | null;
  stalledSince: string | null;
}

export function progressView(p: IProgress | null | undefined): IProgressView | null {
  if (!p) {
    return null;
  }
  const bytesDone = p.bytes_done ?? 0;
  const filesDone = p.files_done ?? 0;
  const bytesTotal = p.bytes_total ?? null;
  const filesTotal = p.files_total ?? null;
  let fraction: number | null = null;
  if (bytesTotal) {
    fraction = Math.min(1, bytesDone / bytesTotal);
  } else if (filesTotal) {
    fraction = Math.min(1, filesDone / filesTotal);
  }
  const stalledSince = p.stalled_since ?? null;
  return {
    fraction,
    filesDone,
    filesTotal,
    bytesDone,
    bytesTotal,
    rate: p.rate_bytes_per_s ?? null,
    eta: stalledSince ? null : (p.eta_seconds ?? null),
    stalledSince
  };
}
