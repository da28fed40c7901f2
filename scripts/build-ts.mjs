// Compiles src/ to CommonJS in dist/, then writes one thin ESM wrapper per
// entry point. The wrappers re-export the CommonJS objects, so `import` and
// `require()` share one copy of every class (no second CommonJS copy, so instanceof holds).
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { writeFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const entryPoints = ['index', 'asynchat', 'select', 'socket', 'posix', 'socketserver', 'twisted'];

rmSync(dist, { recursive: true, force: true });
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], {
  stdio: 'inherit',
});

const require = createRequire(import.meta.url);
for (const entry of entryPoints) {
  const names = Object.keys(require(path.join(dist, `${entry}.js`))).filter(
    (name) => name !== 'default' && name !== '__esModule',
  );
  const wrapper =
    `import cjs from './${entry}.js';\n` +
    `export const { ${names.join(', ')} } = cjs;\n` +
    'export default cjs;\n';
  writeFileSync(path.join(dist, `${entry}.mjs`), wrapper);
  writeFileSync(
    path.join(dist, `${entry}.d.mts`),
    `export * from './${entry}.js';\nimport * as cjs from './${entry}.js';\nexport default cjs;\n`,
  );
}
