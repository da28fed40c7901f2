// Fails when a file under native/ is not formatted as .clang-format says.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import * as path from 'node:path';

function sources(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return /\.(cc|h)$/.test(entry.name) ? [full] : [];
  });
}

const files = sources('native');
try {
  execFileSync('clang-format', ['--dry-run', '--Werror', ...files], { stdio: 'inherit' });
} catch (error) {
  if (error.code === 'ENOENT') {
    console.error('clang-format is not installed (apt-get install clang-format)');
  }
  process.exit(1);
}
console.log(`clang-format: ${files.length} files formatted`);
