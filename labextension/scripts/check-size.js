// CI check: the built JavaScript of the extension stays under 1 MB (1,000,000 bytes).
const fs = require('fs');
const path = require('path');

const LIMIT = 1000 * 1000;
const dir = path.join(__dirname, '..', '..', 'fermi_jupyter', 'labextension', 'static');
if (!fs.existsSync(dir)) {
  console.error(`no build output in ${dir}: run jlpm build:prod first`);
  process.exit(2);
}
const files = fs.readdirSync(dir).filter(f => f.endsWith('.js'));
const total = files.reduce((sum, f) => sum + fs.statSync(path.join(dir, f)).size, 0);
const kb = n => `${(n / 1000).toFixed(1)} kB`;
console.log(
  `built JavaScript: ${kb(total)} in ${files.length} files (limit ${kb(LIMIT)})`
);
if (total >= LIMIT) {
  console.error('the built JavaScript is over the 1 MB budget');
  process.exit(1);
}
