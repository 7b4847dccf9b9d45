// The translatable strings of the extension: every literal passed to trans.__() in src/.
// Used by the catalog test (src/__tests__/catalog.spec.ts) and to list new strings:
//   node scripts/strings.js --missing   (strings without a zh_CN translation)
const fs = require('fs');
const path = require('path');

const SRC = path.join(__dirname, '..', 'src');
const CATALOG = path.join(
  __dirname,
  '..',
  '..',
  'fermi_jupyter',
  'locale',
  'zh_CN',
  'LC_MESSAGES',
  'fermi_jupyter.json'
);
const CALL = /trans\.__\(\s*(['"])((?:\\.|(?!\1)[^\\])*)\1/g;

function files(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap(e => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      return e.name === '__tests__' ? [] : files(p);
    }
    return /\.tsx?$/.test(e.name) ? [p] : [];
  });
}

function strings() {
  const found = new Set();
  for (const file of files(SRC)) {
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(CALL)) {
      found.add(JSON.parse('"' + m[2].replace(/\\'/g, "'").replace(/"/g, '\\"') + '"'));
    }
  }
  return [...found].sort();
}

module.exports = { strings, CATALOG };

if (require.main === module) {
  const catalog = fs.existsSync(CATALOG)
    ? JSON.parse(fs.readFileSync(CATALOG, 'utf8'))
    : {};
  const list = process.argv.includes('--missing')
    ? strings().filter(s => !(s in catalog))
    : strings();
  console.log(JSON.stringify(list, null, 1));
}
