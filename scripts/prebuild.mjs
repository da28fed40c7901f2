// Builds the prebuilt binaries that ship in the npm package (npm run
// build:prebuilds): one stripped N-API binary per platform-arch-libc, in
// prebuilds/<platform>-<arch>/asyncore.<libc>.node, where node-gyp-build
// finds it at load time. Users then need no compiler and no install script.
//
//   node scripts/prebuild.mjs                       linux-x64 and linux-arm64
//   node scripts/prebuild.mjs linux-arm64           only the targets named
//
// A target whose arch differs from this machine's is cross-compiled with the
// Debian cross toolchain of that arch (g++-aarch64-linux-gnu for arm64); the
// release pipeline (.github/workflows/release.yml) builds every target on its
// own runner instead and calls this script with the host's target only.
//
// Why a staging copy: prebuildify runs `node-gyp rebuild` in the package
// directory, which would replace build/Release/asyncore.node, the binary the
// test suite loads, with a stripped (or, when cross-compiling, foreign) one.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { arch as hostArch, platform as hostPlatform, tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// Debian's name for each Node arch, the prefix of its cross toolchain.
const CROSS_PREFIX = { x64: 'x86_64-linux-gnu-', arm64: 'aarch64-linux-gnu-' };

const targets = process.argv.slice(2);
if (targets.length === 0) targets.push('linux-x64', 'linux-arm64');

// node-gyp reads its options from npm_config_* variables. `npm run` exports
// the user's npm config (nodedir=/usr here); a direct `node scripts/...` does
// not, so point node-gyp at the local headers ourselves rather than let it
// download a header tarball.
const env = { ...process.env };
if (!env.npm_config_nodedir && existsSync(path.join(process.execPath, '../../include/node/node_api.h'))) {
  env.npm_config_nodedir = path.resolve(process.execPath, '../..');
}

const stage = mkdtempSync(path.join(tmpdir(), 'asyncore-prebuild-'));
try {
  for (const name of ['binding.gyp', 'package.json', 'native']) {
    cpSync(path.join(root, name), path.join(stage, name), { recursive: true });
  }
  // binding.gyp resolves node-addon-api with require(); prebuildify finds
  // node-gyp in node_modules/.bin.
  symlinkSync(path.join(root, 'node_modules'), path.join(stage, 'node_modules'), 'dir');

  for (const target of targets) {
    const [platform, arch] = target.split('-');
    if (platform !== hostPlatform()) {
      throw new Error(`${target}: cannot build ${platform} binaries on ${hostPlatform()}`);
    }
    const targetEnv = { ...env };
    let stripBin = 'strip';
    if (arch !== hostArch()) {
      const prefix = CROSS_PREFIX[arch];
      if (!prefix) throw new Error(`${target}: no cross toolchain known for ${arch}`);
      const probe = spawnSync(`${prefix}g++`, ['--version'], { stdio: 'ignore' });
      if (probe.error || probe.status !== 0) {
        throw new Error(
          `${target}: ${prefix}g++ not found; install it with ` +
            `apt-get install g++-${prefix.slice(0, -1)} (see README "Prebuilt binaries")`,
        );
      }
      Object.assign(targetEnv, { CC: `${prefix}gcc`, CXX: `${prefix}g++`, AR: `${prefix}ar` });
      stripBin = `${prefix}strip`;
    }
    console.log(`prebuild: ${target}`);
    rmSync(path.join(stage, 'build'), { recursive: true, force: true });
    const result = spawnSync(
      process.execPath,
      [
        path.join(root, 'node_modules/prebuildify/bin.js'),
        '--napi',
        '--strip',
        '--strip-bin', stripBin,
        '--tag-libc',
        '--arch', arch,
      ],
      { cwd: stage, env: targetEnv, stdio: 'inherit' },
    );
    if (result.status !== 0) throw new Error(`${target}: prebuildify failed`);

    // File by file: prebuilds/linux-x64 may also hold the other libc's binary.
    const from = path.join(stage, 'prebuilds', `${platform}-${arch}`);
    const to = path.join(root, 'prebuilds', `${platform}-${arch}`);
    mkdirSync(to, { recursive: true });
    for (const file of readdirSync(from)) {
      cpSync(path.join(from, file), path.join(to, file));
      console.log(`prebuild: wrote prebuilds/${platform}-${arch}/${file} (${statSync(path.join(to, file)).size} bytes)`);
    }
    rmSync(path.join(stage, 'prebuilds'), { recursive: true, force: true });
  }
} finally {
  rmSync(stage, { recursive: true, force: true });
}
