// The seed chapter's two Twisted servers (SimpleLogger on Protocol, then on
// LineReceiver), run side by side: the Python originals under real Twisted
// (test/fixtures/*.py, /usr/bin/python3 with Debian's python3-twisted) and
// the ports in examples/, driven by the same client through the same
// steps. Their transcripts must match once the representations differ only
// where Python and JavaScript print values differently: a (host, port)
// tuple against an array, b'...' against <Buffer ..>.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TIMEOUT_MULTIPLIER, sleep, waitFor } from './support';

const root = path.resolve(__dirname, '..');
const PYTHON = '/usr/bin/python3';

/** `node --import tsx` is what `npx tsx` runs, in one process. */
function tsRunner(): string[] {
  return ['--import', 'tsx'];
}

const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  }
});

interface Server {
  port: number;
  lines: () => string[];
}

function start(command: string, args: string[]): Promise<Server> {
  const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
      const m = /listening on [^\s]+:(\d+)/.exec(err);
      if (m) resolve({ port: Number(m[1]), lines: () => out.split('\n').filter((l) => l !== '') });
    });
    child.once('exit', (code) => reject(new Error(`${command} ${args.join(' ')} exited (${code}): ${err}`)));
  });
}

/** Python's bytes repr (b'..' or b".."), decoded. */
function pythonBytes(literal: string): Buffer {
  const body = literal.slice(2, -1);
  const out: number[] = [];
  const escapes: Record<string, number> = { n: 10, r: 13, t: 9, '\\': 92, "'": 39, '"': 34 };
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch !== '\\') {
      out.push(ch.charCodeAt(0));
      continue;
    }
    const next = body[++i]!;
    if (next === 'x') {
      out.push(parseInt(body.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      out.push(escapes[next]!);
    }
  }
  return Buffer.from(out);
}

/** One transcript in a form both languages share: peers numbered, bytes as hex. */
function normalize(lines: string[]): string[] {
  const peers = new Map<string, string>();
  const peer = (port: string) => {
    if (!peers.has(port)) peers.set(port, `PEER${peers.size + 1}`);
    return peers.get(port)!;
  };
  return lines.map((line) =>
    line
      .replace(/\('127\.0\.0\.1', (\d+)\)/g, (_m, p: string) => peer(p))
      .replace(/\[ '127\.0\.0\.1', (\d+) \]/g, (_m, p: string) => peer(p))
      .replace(/^b(['"]).*\1$/, (m) => `BYTES(${pythonBytes(m).toString('hex')})`)
      .replace(/^<Buffer ?([0-9a-f ]*)>$/, (_m, hex: string) => `BYTES(${hex.replace(/ /g, '')})`),
  );
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

/**
 * The client's steps, each waiting until the server has printed what it
 * should, so that the transcript does not depend on timing.
 */
async function drive(server: Server, lineMode: boolean): Promise<string[]> {
  let expected = 0;
  const until = async (more: number) => {
    expected += more;
    await waitFor(() => server.lines().length >= expected, 10_000);
  };
  const c1 = await connect(server.port);
  await until(1);
  c1.write('hello\r\n');
  await until(1);
  c1.write('two\r\nlines\r\n');
  await until(lineMode ? 2 : 1);
  const c2 = await connect(server.port);
  await until(1);
  c2.write('part');
  if (lineMode) await sleep(200 * TIMEOUT_MULTIPLIER);
  else await until(1);
  c2.write("ial 'quoted' \\ \x01\r\n");
  await until(1);
  c1.end();
  await until(1);
  c2.resetAndDestroy();
  await until(1);
  await sleep(100);
  return server.lines();
}

describe('the seed servers under Twisted and as ported', () => {
  it('Python 3 with Twisted is installed (CI installs python3-twisted)', () => {
    const r = spawnSync(PYTHON, ['-c', 'import twisted; print(twisted.__version__)'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\./);
  });

  for (const [name, lineMode] of [
    ['twisted_simple_logger', false],
    ['twisted_line_logger', true],
  ] as const) {
    it(`${name}: the same transcript`, async () => {
      const twisted = await start(PYTHON, ['-u', path.join('test', 'fixtures', `${name}.py`), '0']);
      const python = normalize(await drive(twisted, lineMode));
      const ported = await start(process.execPath, [...tsRunner(), path.join('examples', `${name}.ts`), '0']);
      const ours = normalize(await drive(ported, lineMode));
      expect(ours).toEqual(python);
      // And it is the transcript the steps call for.
      expect(python[0]).toBe('Got connection from PEER1');
      expect(python.at(-2)).toBe('PEER1 disconnected');
      expect(python.at(-1)).toBe('PEER2 disconnected');
      expect(python.length).toBe(8);
      const hello = Buffer.from(lineMode ? 'hello' : 'hello\r\n').toString('hex');
      expect(python[1]).toBe(`BYTES(${hello})`);
    }, 60_000);
  }
});
