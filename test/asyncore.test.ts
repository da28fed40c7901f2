// CPython's Lib/test/test_asyncore.py, ported test by test:
// HelperFunctionTests, DispatcherTests, DispatcherWithSendTests and
// FileWrapperTest. BaseTestAPI and its TestAPI_Use* classes are in
// asyncore-api.test.ts.
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, constants as fsConstants } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as util from 'node:util';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as asyncore from '../src/asyncore';
import { OSError } from '../src/errors';
import { POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI } from '../src/select';
import { BACKENDS } from './asyncore-support';
import { expectNoFdLeaks, sleep, waitFor } from './support';

expectNoFdLeaks();

/** Captures what process.stdout or process.stderr is given while fn runs. */
function captured(stream: 'stdout' | 'stderr', fn: () => void): string[] {
  const chunks: string[] = [];
  const spy = vi.spyOn(process[stream], 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  try {
    fn();
  } finally {
    spy.mockRestore();
  }
  return chunks.join('').split('\n').slice(0, -1);
}

class dummysocket {
  closed = false;
  close(): void {
    this.closed = true;
  }
  fileno(): number {
    return 42;
  }
}

class dummychannel {
  socket = new dummysocket();
  close(): void {
    this.socket.close();
  }
}

function unexpected(name: string): () => never {
  return () => {
    throw new Error(`${name} not supposed to be called`);
  };
}

/** Every handler raises ExitNow. */
class exitingdummy implements asyncore.Channel {
  readable = unexpected('readable');
  writable = unexpected('writable');
  handle_read_event(): void {
    throw new asyncore.ExitNow();
  }
  handle_write_event = this.handle_read_event;
  handle_close = this.handle_read_event;
  handle_expt_event = this.handle_read_event;
  handle_error = unexpected('handle_error');
}

/** Every handler raises; handle_error() notes it. */
class crashingdummy implements asyncore.Channel {
  error_handled = false;
  readable = unexpected('readable');
  writable = unexpected('writable');
  handle_read_event(): void {
    throw new Error();
  }
  handle_write_event = this.handle_read_event;
  handle_close = this.handle_read_event;
  handle_expt_event = this.handle_read_event;
  handle_error(): void {
    this.error_handled = true;
  }
}

describe('HelperFunctionTests', () => {
  it('test_readwriteexc', () => {
    // ExitNow raised by a handler goes all the way up through read, write
    // and _exception.
    const tr1 = new exitingdummy();
    expect(() => asyncore.read(tr1)).toThrow(asyncore.ExitNow);
    expect(() => asyncore.write(tr1)).toThrow(asyncore.ExitNow);
    expect(() => asyncore._exception(tr1)).toThrow(asyncore.ExitNow);

    // Any other error makes them call handle_error.
    let tr2 = new crashingdummy();
    asyncore.read(tr2);
    expect(tr2.error_handled).toBe(true);

    tr2 = new crashingdummy();
    asyncore.write(tr2);
    expect(tr2.error_handled).toBe(true);

    tr2 = new crashingdummy();
    asyncore._exception(tr2);
    expect(tr2.error_handled).toBe(true);
  });

  it('test_readwrite', () => {
    // readwrite() calls the right handler for each flag.
    const attributes = ['read', 'expt', 'write', 'closed', 'error_handled'] as const;
    const expected: Array<[number, (typeof attributes)[number]]> = [
      [POLLIN, 'read'],
      [POLLPRI, 'expt'],
      [POLLOUT, 'write'],
      [POLLERR, 'closed'],
      [POLLHUP, 'closed'],
      [POLLNVAL, 'closed'],
    ];

    class testobj implements asyncore.Channel {
      read = false;
      write = false;
      closed = false;
      expt = false;
      error_handled = false;
      readable = unexpected('readable');
      writable = unexpected('writable');
      handle_read_event(): void {
        this.read = true;
      }
      handle_write_event(): void {
        this.write = true;
      }
      handle_close(): void {
        this.closed = true;
      }
      handle_expt_event(): void {
        this.expt = true;
      }
      handle_error(): void {
        this.error_handled = true;
      }
    }

    for (const [flag, expectedattr] of expected) {
      const tobj = new testobj();
      expect(tobj[expectedattr]).toBe(false);
      asyncore.readwrite(tobj, flag);

      // Only the attribute of the handler expected is set.
      for (const attr of attributes) expect(tobj[attr]).toBe(attr === expectedattr);

      // ExitNow goes all the way up through readwrite.
      const tr1 = new exitingdummy();
      expect(() => asyncore.readwrite(tr1, flag)).toThrow(asyncore.ExitNow);

      // Any other error makes it call handle_error.
      const tr2 = new crashingdummy();
      expect(tr2.error_handled).toBe(false);
      asyncore.readwrite(tr2, flag);
      expect(tr2.error_handled).toBe(true);
    }
  });

  function closeallCheck(usedefault: boolean): void {
    // close_all() closes everything in a given map.
    const l: dummychannel[] = [];
    const testmap = usedefault ? asyncore.socket_map : new Map();
    for (let i = 0; i < 10; i++) {
      const c = new dummychannel();
      l.push(c);
      expect(c.socket.closed).toBe(false);
      testmap.set(i, c as unknown as asyncore.Channel);
    }
    // CPython swaps asyncore.socket_map for testmap; an ES module binding
    // cannot be swapped, so the default case fills socket_map itself.
    if (usedefault) asyncore.close_all();
    else asyncore.close_all(testmap);

    expect(testmap.size).toBe(0);
    for (const c of l) expect(c.socket.closed).toBe(true);
  }

  it('test_closeall', () => {
    closeallCheck(false);
  });

  it('test_closeall_default', () => {
    closeallCheck(true);
  });

  it('test_compact_traceback', () => {
    let real: Error | undefined;
    let r: asyncore.CompactTraceback | undefined;
    function test_compact_traceback(): void {
      throw new Error("I don't like spam!");
    }
    try {
      test_compact_traceback();
    } catch (err) {
      real = err as Error;
      r = asyncore.compact_traceback(err);
    }
    expect(r).toBeDefined();
    const [[f, fn, line], t, v, info] = r!;
    expect(path.basename(f)).toBe('asyncore.test.ts');
    expect(fn).toBe('test_compact_traceback');
    expect(t).toBe(real!.name);
    expect(v).toBe(real!.message);
    // CPython's traceback starts where the error was caught, so its info is
    // that one frame; V8's stack holds every caller as well, outermost first.
    expect(info.endsWith(`[${f}|${fn}|${line}]`)).toBe(true);
    expect(info.split('] [').length).toBeGreaterThan(1);
  });
});

describe('DispatcherTests', () => {
  afterEach(() => {
    asyncore.close_all();
  });

  it('test_basic', () => {
    const d = new asyncore.dispatcher();
    expect(d.readable()).toBe(true);
    expect(d.writable()).toBe(true);
  });

  it('test_repr', () => {
    const d = new asyncore.dispatcher();
    // The 0xN is a per-object number (JavaScript has no id()), not an address.
    expect(String(d)).toMatch(/^<asyncore\.dispatcher at 0x[0-9a-f]+>$/);
    expect(util.inspect(d)).toBe(String(d));
    expect(String(new asyncore.dispatcher())).not.toBe(String(d));
  });

  it('test_log', () => {
    const d = new asyncore.dispatcher();
    // dispatcher.log() writes to stderr.
    const l1 = 'Lovely spam! Wonderful spam!';
    const l2 = "I don't like spam!";
    const lines = captured('stderr', () => {
      d.log(l1);
      d.log(l2);
    });
    expect(lines).toEqual([`log: ${l1}`, `log: ${l2}`]);
  });

  it('test_log_info', () => {
    const d = new asyncore.dispatcher();
    // dispatcher.log_info() writes to stdout.
    const l1 = 'Have you got anything without spam?';
    const l2 = "Why can't she have egg bacon spam and sausage?";
    const l3 = "THAT'S got spam in it!";
    const lines = captured('stdout', () => {
      d.log_info(l1, 'EGGS');
      d.log_info(l2);
      d.log_info(l3, 'SPAM');
    });
    expect(lines).toEqual([`EGGS: ${l1}`, `info: ${l2}`, `SPAM: ${l3}`]);
  });

  it('test_unhandled', () => {
    const d = new asyncore.dispatcher();
    d.ignore_log_types = new Set();
    const lines = captured('stdout', () => {
      d.handle_expt();
      d.handle_read();
      d.handle_write();
      d.handle_connect();
    });
    expect(lines).toEqual([
      'warning: unhandled incoming priority event',
      'warning: unhandled read event',
      'warning: unhandled write event',
      'warning: unhandled connect event',
    ]);
  });

  it('test_strerror', () => {
    // CPython bug #8573.
    expect(asyncore._strerror(1 /* EPERM */)).toBe('Operation not permitted');
    expect(asyncore._strerror(-1)).not.toBe('');
  });
});

class dispatcherwithsend_noread extends asyncore.dispatcher_with_send {
  override readable(): boolean {
    return false;
  }
  override handle_connect(): void {}
}

describe('DispatcherWithSendTests', () => {
  afterEach(() => {
    asyncore.close_all();
  });

  it('test_send', async () => {
    // CPython's capture_server runs in a thread; a Node net server in this
    // process plays it here (the passes yield to the event loop).
    const chunks: Buffer[] = [];
    let done = false;
    const server = net.createServer((conn) => {
      conn.on('data', (data) => {
        chunks.push(data);
        if (data.includes(10)) {
          conn.destroy();
          server.close();
        }
      });
      conn.on('close', () => {
        done = true;
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;

    const data = Buffer.from("Suppose there isn't a 16-ton weight?");
    const d = new dispatcherwithsend_noread();
    d.create_socket();
    d.connect(['127.0.0.1', port]);
    // Give the socket time to connect.
    await sleep(100);

    d.send(data);
    d.send(data);
    d.send(Buffer.from('\n'));

    let n = 1000;
    while (d.out_buffer.length > 0 && n > 0) {
      await asyncore.poll();
      n -= 1;
    }
    await waitFor(() => done);
    expect(Buffer.concat(chunks).toString().replace(/\n/g, '')).toBe(data.toString().repeat(2));
  });
});

describe('FileWrapperTest', () => {
  const d = Buffer.from("It's not dead, it's sleeping!");
  let dir: string;
  let TESTFN: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'asyncore-file-'));
    TESTFN = path.join(dir, 'testfn');
    writeFileSync(TESTFN, d);
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('test_recv', () => {
    const fd = openSync(TESTFN, fsConstants.O_RDONLY);
    const w = new asyncore.file_wrapper(fd);
    closeSync(fd);

    expect(w.fd).not.toBe(fd);
    expect(w.fileno()).not.toBe(fd);
    expect(w.recv(13)).toEqual(Buffer.from("It's not dead"));
    expect(w.read(6)).toEqual(Buffer.from(", it's"));
    w.close();
    expect(() => w.read(1)).toThrow(OSError);
  });

  it('test_send', () => {
    const d1 = Buffer.from('Come again?');
    const d2 = Buffer.from('I want to buy some cheese.');
    const fd = openSync(TESTFN, fsConstants.O_WRONLY | fsConstants.O_APPEND);
    const w = new asyncore.file_wrapper(fd);
    closeSync(fd);

    w.write(d1);
    w.send(d2);
    w.close();
    expect(readFileSync(TESTFN)).toEqual(Buffer.concat([d, d1, d2]));
  });

  // CPython runs it with use_poll=True only; every backend here (epoll
  // cannot watch a regular file: the pass treats it as always ready, as
  // poll(2) does).
  it.each(BACKENDS)('test_dispatcher (%s)', async (backend) => {
    const fd = openSync(TESTFN, fsConstants.O_RDONLY);
    const data: Buffer[] = [];
    class FileDispatcher extends asyncore.file_dispatcher {
      override handle_read(): void {
        data.push(this.recv(29));
      }
    }
    new FileDispatcher(fd);
    closeSync(fd);
    await asyncore.loop({ timeout: 0.01, backend, count: 2 });
    expect(Buffer.concat(data)).toEqual(d);
    expect(asyncore.socket_map.size).toBe(0);
  });

  it('test_resource_warning', async () => {
    // CPython issue #11453: a file_wrapper dropped unclosed warns (and its
    // fd is closed).
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const warnings: string[] = [];
    const spy = vi.spyOn(process, 'emitWarning').mockImplementation((warning: string | Error, type?: unknown) => {
      warnings.push(`${String(type)}: ${String(warning)}`);
    });
    try {
      const fd = openSync(TESTFN, fsConstants.O_RDONLY);
      (() => {
        new asyncore.file_wrapper(fd);
      })();
      closeSync(fd);
      for (let i = 0; i < 20 && warnings.length === 0; i++) {
        gc();
        await sleep(10);
      }
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/^ResourceWarning: unclosed file/);
    } finally {
      spy.mockRestore();
    }
  });

  it('test_close_twice', () => {
    const fd = openSync(TESTFN, fsConstants.O_RDONLY);
    const f = new asyncore.file_wrapper(fd);
    closeSync(fd);

    closeSync(f.fd); // file_wrapper dup()ed fd
    expect(() => f.close()).toThrow(OSError);
    expect(f.fd).toBe(-1);
    // Closing twice does not fail.
    f.close();
  });
});

afterAll(() => {
  asyncore.close_all(null, true);
});
