// Makes node_modules/asyncore a link to this checkout, so that code inside
// the repository imports the package by its name and resolves it through
// package.json "exports" (dist/), exactly as a project that installed it
// does. Node's own self-reference would do that without a link, but only for
// files whose nearest package.json is the root one, and the examples have
// their own (examples/package.json makes them ES modules). Run by
// `npm run build:ts` (after it writes dist/, where the link leads), so
// `npm ci`, `npm install` and `npm run build` leave the link in place.
import { lstatSync, mkdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const link = path.join(root, 'node_modules', 'asyncore');
const target = '..';

let current = null;
try {
  const stat = lstatSync(link);
  current = stat.isSymbolicLink() ? readlinkSync(link) : '(not a link)';
} catch (error) {
  if (error.code !== 'ENOENT') throw error;
}
if (current !== target) {
  // Anything else there (an installed copy of the package) would shadow
  // this checkout: replace it.
  if (current !== null) rmSync(link, { recursive: true, force: true });
  mkdirSync(path.dirname(link), { recursive: true });
  symlinkSync(target, link, 'dir');
}
