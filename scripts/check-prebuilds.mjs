// Refuses to pack (it is the "prepack" script) when the prebuilt binaries are
// not the expected set: users install with --ignore-scripts and no compiler,
// so a missing or broken prebuild is a broken release for that platform.
//
// For each expected target (platform-arch-libc) it checks that
//   - prebuilds/<platform>-<arch>/asyncore.<libc>.node exists,
//   - it is an ELF shared object for that arch, linked against that libc,
//   - it loads and exports the addon's interface: in this Node when the
//     target is this machine's, else through the command named by
//     ASYNCORE_NODE_<ARCH> (e.g. ASYNCORE_NODE_ARM64="qemu-aarch64-static
//     -L /usr/aarch64-linux-gnu /path/to/arm64/node", see
//     scripts/setup-cross.sh). Without such a command a foreign binary is
//     only checked by its header, and that is an error when
//     ASYNCORE_PREBUILD_STRICT=1.
// Files under prebuilds/ that no target expects are errors too: nothing
// unverified ships.
//
// It also prints the newest glibc and libstdc++ symbol versions a Linux binary
// needs: a system older than that cannot load it. ASYNCORE_PREBUILD_MAX_GLIBC
// and ASYNCORE_PREBUILD_MAX_GLIBCXX (e.g. 2.28 and 3.4.25, Node 20's own
// floor) make a newer requirement an error; the release pipeline sets them.
//
// ASYNCORE_PREBUILD_TARGETS overrides the expected set (comma-separated);
// the default is what `npm run build:prebuilds` makes on a Debian machine.
// The release pipeline sets the full list (README "Prebuilt binaries").
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { arch as hostArch, platform as hostPlatform } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_TARGETS = 'linux-x64-glibc,linux-arm64-glibc';
const targets = (process.env.ASYNCORE_PREBUILD_TARGETS || DEFAULT_TARGETS)
  .split(',')
  .map((t) => t.trim())
  .filter(Boolean);
const strict = process.env.ASYNCORE_PREBUILD_STRICT === '1';

// ELF e_machine per Node arch (elf.h: EM_X86_64, EM_AARCH64).
const ELF_MACHINE = { x64: 62, arm64: 183 };
// The DT_NEEDED name of each libc's shared object.
const LIBC_SONAME = { glibc: /libc\.so\.6/, musl: /libc\.musl-[a-z0-9_]+\.so\.1/ };

// The newest version of each symbol-version family (GLIBC_2.32, GLIBCXX_3.4.30)
// named in the binary; the dynamic section only names those it needs.
function newestVersions(bytes) {
  const newest = {};
  for (const [, family, version] of bytes.toString('latin1').matchAll(/\b(GLIBC|GLIBCXX)_(\d+(?:\.\d+)+)\b/g)) {
    if (!newest[family] || compareVersions(version, newest[family]) > 0) newest[family] = version;
  }
  return newest;
}

function compareVersions(a, b) {
  const [x, y] = [a.split('.').map(Number), b.split('.').map(Number)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  }
  return 0;
}

// What `npm run build:prebuilds` can make here (scripts/prebuild.mjs): this
// machine's target, and linux-arm64 on x64 when the cross compiler is there.
function buildableTargets() {
  const buildable = [`${hostPlatform()}-${hostArch()}-${hostLibc()}`];
  if (hostPlatform() === 'linux' && hostArch() === 'x64') {
    const cross = spawnSync('aarch64-linux-gnu-g++', ['--version'], { stdio: 'ignore' });
    if (!cross.error && cross.status === 0) buildable.push('linux-arm64-glibc');
  }
  return buildable;
}

// node-gyp-build tags a binary with the libc it runs on; this is its test.
function hostLibc() {
  return existsSync('/etc/alpine-release') ? 'musl' : 'glibc';
}

// Loads the binary in a child process (a crash must not take the check
// down) and prints the kinds of a few exports every build must have.
const LOAD_PROBE =
  'const a = require(process.argv[1]);' +
  'console.log([typeof a.Poller, typeof a.socket, typeof a.FD_SETSIZE, process.arch].join(" "))';

function runnerFor(arch) {
  if (arch === hostArch()) return [process.execPath];
  const command = process.env[`ASYNCORE_NODE_${arch.toUpperCase()}`];
  return command ? command.split(/\s+/).filter(Boolean) : null;
}

const errors = [];
const notes = [];
const expectedFiles = new Set();
let missing = false;

for (const target of targets) {
  const [platform, arch, libc = 'glibc'] = target.split('-');
  const rel = path.join('prebuilds', `${platform}-${arch}`, `asyncore.${libc}.node`);
  const file = path.join(root, rel);
  expectedFiles.add(rel);
  if (!existsSync(file)) {
    errors.push(`${target}: ${rel} is missing (npm run build:prebuilds)`);
    missing = true;
    continue;
  }

  if (platform === 'linux') {
    const bytes = readFileSync(file);
    const isElf = bytes.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
    // e_ident[EI_CLASS] == ELFCLASS64, e_type == ET_DYN, e_machine (little endian).
    if (!isElf || bytes[4] !== 2 || bytes.readUInt16LE(16) !== 3) {
      errors.push(`${target}: ${rel} is not a 64-bit ELF shared object`);
      continue;
    }
    if (bytes.readUInt16LE(18) !== ELF_MACHINE[arch]) {
      errors.push(`${target}: ${rel} is built for ELF machine ${bytes.readUInt16LE(18)}, not ${arch}`);
      continue;
    }
    if (!LIBC_SONAME[libc]?.test(bytes.toString('latin1'))) {
      errors.push(`${target}: ${rel} is not linked against ${libc}`);
      continue;
    }
    const needs = newestVersions(bytes);
    notes.push(`${target}: needs ${Object.entries(needs).map(([f, v]) => `${f}_${v}`).join(', ') || 'no versioned glibc symbols'}`);
    let tooNew = false;
    for (const family of ['GLIBC', 'GLIBCXX']) {
      const max = process.env[`ASYNCORE_PREBUILD_MAX_${family}`];
      if (max && needs[family] && compareVersions(needs[family], max) > 0) {
        errors.push(`${target}: ${rel} needs ${family}_${needs[family]}, newer than ${max}: build it on an older system`);
        tooNew = true;
      }
    }
    if (tooNew) continue;
  }

  const runner = platform === hostPlatform() && libc === hostLibc() ? runnerFor(arch) : null;
  if (!runner) {
    const message = `${target}: header checked, not loaded (no Node for ${arch} here; set ASYNCORE_NODE_${arch.toUpperCase()})`;
    (strict ? errors : notes).push(message);
    continue;
  }
  const [command, ...args] = runner;
  const result = spawnSync(command, [...args, '-e', LOAD_PROBE, file], { encoding: 'utf8' });
  const printed = (result.stdout || '').trim();
  if (result.status !== 0 || printed !== `function function number ${arch}`) {
    // The line of Node's report that says why (dlopen's message), not its stack.
    const stderr = result.stderr || '';
    const why = stderr.split('\n').find((line) => /Error/.test(line)) || stderr.trim();
    errors.push(`${target}: ${rel} does not load with ${runner.join(' ')}: ${result.error?.message || why || (result.signal && `killed by ${result.signal}`) || printed}`);
    continue;
  }
  notes.push(`${target}: ${rel} loads (${runner.length > 1 ? 'emulated' : 'native'}: ${printed})`);
}

// Anything else under prebuilds/ would ship unverified.
const prebuildsDir = path.join(root, 'prebuilds');
if (existsSync(prebuildsDir)) {
  for (const dir of readdirSync(prebuildsDir)) {
    for (const name of readdirSync(path.join(prebuildsDir, dir))) {
      const rel = path.join('prebuilds', dir, name);
      if (!expectedFiles.has(rel)) errors.push(`${rel} is not an expected prebuild (ASYNCORE_PREBUILD_TARGETS)`);
    }
  }
}

for (const note of notes) console.log(`check-prebuilds: ${note}`);
for (const error of errors) console.error(`check-prebuilds: ERROR ${error}`);
if (errors.length > 0) {
  console.error('check-prebuilds: refusing to pack an incomplete or broken set of prebuilds');
  if (missing) {
    // A contributor's machine seldom builds every target: say how to pack what it does build.
    const buildable = buildableTargets();
    const builds = buildable.map((t) => t.split('-').slice(0, 2).join('-')).join(' ');
    console.error(
      `check-prebuilds: to pack what this machine builds: npm run build:prebuilds -- ${builds} && ` +
        `ASYNCORE_PREBUILD_TARGETS=${buildable.join(',')} npm pack`,
    );
  }
  process.exit(1);
}
console.log(`check-prebuilds: ${targets.length} prebuilds present and verified`);
