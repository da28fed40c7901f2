// npm run build:native: compiles the addon from source with node-gyp into
// build/Release/asyncore.node, where the loader looks after prebuilds/.
// In a project that installed the package, README.md's command runs it:
//   npm explore asyncore -- npm run build:native
// node-gyp needs a binding.gyp in the package directory. The published
// package ships none (npm would list an install script for it), so this
// writes one that includes native/asyncore.gypi for the build and removes it
// again; in a checkout, the committed binding.gyp is used as it is.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const gyp = path.join(root, 'binding.gyp');
const written = !fs.existsSync(gyp);
if (written) fs.writeFileSync(gyp, '{ "includes": ["native/asyncore.gypi"] }\n');
let status = 1;
try {
  // `npm run` puts node-gyp on PATH: this package's devDependency in a
  // checkout, npm's own copy elsewhere.
  const result = spawnSync('node-gyp', ['rebuild', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
  if (result.error) console.error(`build:native: cannot run node-gyp: ${result.error.message}`);
  status = result.status ?? 1;
} finally {
  if (written) fs.rmSync(gyp, { force: true });
}
process.exit(status);
