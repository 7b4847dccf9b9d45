/**
 * How the Data panel shares its height between its sections (pure functions on sizes, so
 * they are tested without a browser; `DataPanel` applies them to its Lumino accordion).
 * Sizes are one number per section, in any unit; folded sections count 0.
 */

/**
 * The sizes with section `index` given a fair share (1 / the open sections) when it has less
 * than half of one, taken from the other open sections in proportion to their sizes; null
 * when it has room already.
 */
export function fairShare(
  sizes: number[],
  open: boolean[],
  index: number
): number[] | null {
  const total = sizes.reduce((sum, s, i) => sum + (open[i] ? s : 0), 0);
  const count = open.filter(Boolean).length;
  if (!open[index] || count === 0) {
    return null;
  }
  const fair = 1 / count;
  const mine = total > 0 ? sizes[index] / total : 0;
  if (mine >= fair / 2) {
    return null;
  }
  const others = total - sizes[index];
  return sizes.map((s, i) =>
    !open[i] ? 0 : i === index ? fair : others > 0 ? (s * (1 - fair)) / others : fair
  );
}

export interface IFitOptions {
  /** the height each section is laid out with now */
  heights: number[];
  /** the height each section's content needs to be seen whole */
  needs: number[];
  open: boolean[];
  /** the sections that grow to their content (the short lists: mounts, volumes) */
  grow: number[];
  /** the most a growing section takes, as a share of the height (default 0.4) */
  cap?: number;
  /** pixels a list may take beyond `cap` rather than be cut off by less than a line (24) */
  slack?: number;
  /** the least the other open sections keep, as a share of the height (default 0.2) */
  floor?: number;
}

/**
 * The heights with the `grow` sections made tall enough for their content (up to `cap`, or
 * a little beyond it when that shows them whole),
 * the room taken from the other open sections (down to `floor` each); null when nothing
 * needs more room. Never shrinks a growing section.
 */
export function fitContent(options: IFitOptions): number[] | null {
  const { heights, needs, open, grow } = options;
  const cap = options.cap ?? 0.4;
  const slack = options.slack ?? 24;
  const floor = options.floor ?? 0.2;
  const space = heights.reduce((sum, h, i) => sum + (open[i] ? h : 0), 0);
  if (space <= 0) {
    return null;
  }
  const next = heights.map((h, i) => (open[i] ? h : 0));
  let wanted = 0;
  for (const i of grow) {
    // a list a few pixels over the cap is shown whole: a sliver to scroll to helps nobody
    const limit = cap * space;
    const want = needs[i] <= limit + slack ? needs[i] : limit;
    if (open[i] && want > next[i]) {
      wanted += want - next[i];
      next[i] = want;
    }
  }
  if (wanted <= 0) {
    return null;
  }
  const donors = next.map((_, i) => i).filter(i => open[i] && !grow.includes(i));
  const spare = donors.reduce(
    (sum, i) => sum + Math.max(0, next[i] - floor * space),
    0
  );
  const given = Math.min(wanted, spare);
  if (given <= 0) {
    return null;
  }
  // not enough spare room: each growing section gets its part of what there is
  for (const i of grow) {
    if (open[i] && next[i] > heights[i]) {
      next[i] = heights[i] + ((next[i] - heights[i]) * given) / wanted;
    }
  }
  for (const i of donors) {
    next[i] -= (Math.max(0, next[i] - floor * space) * given) / spare;
  }
  return next;
}

/** Whether two size lists are the same proportions (to `tolerance`) over the open sections. */
export function sameProportions(
  a: number[],
  b: number[],
  open: boolean[],
  tolerance = 0.03
): boolean {
  const norm = (xs: number[]) => {
    const masked = xs.map((x, i) => (open[i] ? x : 0));
    const total = masked.reduce((sum, x) => sum + x, 0);
    return masked.map(x => (total > 0 ? x / total : 0));
  };
  const [na, nb] = [norm(a), norm(b)];
  return na.every((x, i) => Math.abs(x - nb[i]) <= tolerance);
}
