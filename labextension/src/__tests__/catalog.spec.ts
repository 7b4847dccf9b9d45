/**
 * The zh_CN catalog shipped in the wheel: every string of the extension is translated, the
 * header is what JupyterLab needs, and the file stays sorted with one entry per line (the spawn
 * form's strings live in the same file, so merges must stay easy).
 */
import * as fs from 'fs';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { strings, CATALOG } = require('../../scripts/strings.js');

describe('zh_CN catalog', () => {
  const text = fs.readFileSync(CATALOG, 'utf8');
  const catalog = JSON.parse(text) as Record<string, unknown>;

  it('has the header JupyterLab reads', () => {
    expect(catalog['']).toMatchObject({
      domain: 'fermi_jupyter',
      language: 'zh-CN',
      plural_forms: 'nplurals=1; plural=0;'
    });
  });

  it('translates every string of the extension, keeping its placeholders', () => {
    const missing: string[] = [];
    const broken: string[] = [];
    for (const s of strings() as string[]) {
      const t = catalog[s];
      if (!Array.isArray(t) || typeof t[0] !== 'string' || !t[0]) {
        missing.push(s);
        continue;
      }
      const want = (s.match(/%\d/g) ?? []).sort().join();
      const have = ((t[0] as string).match(/%\d/g) ?? []).sort().join();
      if (want !== have) {
        broken.push(s);
      }
    }
    expect(missing).toEqual([]);
    expect(broken).toEqual([]);
  });

  it('is sorted, one entry per line', () => {
    const lines = text.trim().split('\n').slice(1, -1);
    const keys = lines
      .map((l: string) => JSON.parse(`{${l.replace(/,$/, '')}}`) as object)
      .map((o: object) => Object.keys(o)[0]);
    expect(keys[0]).toBe('');
    expect(keys.slice(1)).toEqual([...keys.slice(1)].sort());
    expect(keys.length).toBe(Object.keys(catalog).length);
  });
});
