/** How the Data panel shares its height: a fair share on opening, content-sized short lists. */
import { fairShare, fitContent, sameProportions } from '../widgets/sectionSizes';

const ALL = [true, true, true, true];

describe('fairShare', () => {
  it('gives a section opened with no height a quarter of four, from the others in proportion', () => {
    // Transfers folded before any layout: Lumino reopens it at 0
    const sizes = fairShare([100, 200, 200, 0], ALL, 3)!;
    const total = sizes.reduce((a, b) => a + b, 0);
    expect(sizes[3] / total).toBeCloseTo(0.25);
    expect(sizes[0] / total).toBeCloseTo(0.15);
    expect(sizes[1] / total).toBeCloseTo(0.3);
    expect(sizes[2] / total).toBeCloseTo(0.3);
  });

  it('leaves a section that has half a fair share or more, and folded ones, alone', () => {
    expect(fairShare([100, 200, 200, 80], ALL, 3)).toBeNull();
    expect(fairShare([100, 200, 200, 0], [true, true, true, false], 3)).toBeNull();
  });

  it('counts only the open sections, folded ones stay 0', () => {
    const sizes = fairShare([300, 0, 0, 0], [true, false, false, true], 3)!;
    expect(sizes).toEqual([0.5, 0, 0, 0.5]);
  });

  it('shares equally when nothing has a size yet', () => {
    expect(fairShare([0, 0, 0, 0], ALL, 3)).toEqual([0.25, 0.25, 0.25, 0.25]);
  });
});

describe('fitContent', () => {
  const open = [true, true, true, false];
  const grow = [0, 1];

  it('grows the short lists to their content, from the datasets', () => {
    // 560 px: 1:2:2 gives the mounts 112 px, their empty state needs 180
    const next = fitContent({
      heights: [112, 224, 224, 0],
      needs: [180, 150, 224, 0],
      open,
      grow
    })!;
    expect(next[0]).toBeCloseTo(180);
    expect(next[1]).toBeCloseTo(224); // never shrunk
    expect(next[2]).toBeCloseTo(156);
    expect(next[3]).toBe(0);
  });

  it('shows a list whole when it needs less than a line beyond the cap', () => {
    // 555 px: the cap is 222; the volumes need 230 (a usage bar arrived late)
    const next = fitContent({
      heights: [155, 222, 178, 0],
      needs: [155, 230, 100, 0],
      open,
      grow
    })!;
    expect(next[1]).toBeCloseTo(230);
    expect(next[2]).toBeCloseTo(170);
    // 40 px beyond it: capped, the list scrolls
    const capped = fitContent({
      heights: [155, 200, 200, 0],
      needs: [155, 262, 100, 0],
      open,
      grow
    })!;
    expect(capped[1]).toBeCloseTo(222);
  });

  it('caps what a list takes, and keeps the floor of the others', () => {
    const next = fitContent({
      heights: [100, 200, 200, 0],
      needs: [1000, 1000, 50, 0],
      open,
      grow
    })!;
    expect(next[0]).toBeCloseTo(200); // 40 % of 500
    expect(next[1]).toBeCloseTo(200);
    expect(next[2]).toBeCloseTo(100); // 20 % of 500
    const shortOfRoom = fitContent({
      heights: [100, 100, 300, 0],
      needs: [1000, 1000, 0, 0],
      open,
      grow,
      cap: 0.5,
      floor: 0.4
    })!;
    // 100 px to give (300 down to 40 % of 500), shared by what each wanted (150 each)
    expect(shortOfRoom[0]).toBeCloseTo(150);
    expect(shortOfRoom[1]).toBeCloseTo(150);
    expect(shortOfRoom[2]).toBeCloseTo(200);
  });

  it('changes nothing when everything fits, or nothing is laid out', () => {
    expect(
      fitContent({ heights: [112, 224, 224, 0], needs: [80, 224, 500, 0], open, grow })
    ).toBeNull();
    expect(
      fitContent({ heights: [0, 0, 0, 0], needs: [80, 90, 0, 0], open, grow })
    ).toBeNull();
  });
});

describe('sameProportions', () => {
  it('compares the open sections only, within a tolerance', () => {
    const open = [true, true, true, false];
    expect(sameProportions([112, 224, 224, 0], [1, 2, 2, 0], open)).toBe(true);
    expect(sameProportions([112, 224, 224, 55], [1, 2, 2, 0], open)).toBe(true);
    expect(sameProportions([18, 37, 505, 0], [1, 2, 2, 0], open)).toBe(false);
  });
});
