// What tsc says of code written against asyncore/socketserver: class
// attributes are statics (a subclass field for one is TS2610), a handler's
// request, client_address and server are typed (a handler names its
// server's class to read its fields), the mix-ins return what they make,
// and no declaration of the module says `any`.
import * as path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { root } from './socketserver-support';

function compilerOptions(): ts.CompilerOptions {
  const parsed = ts.getParsedCommandLineOfConfigFile(path.join(root, 'tsconfig.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  })!;
  return parsed.options;
}

/**
 * Each snippet's diagnostics ("TS2610 ..."), type-checked together, with
 * the project's settings, as files of test/ that import the sources.
 */
function typeCheck(snippets: Record<string, string>): Record<string, string[]> {
  const options = { ...compilerOptions(), noEmit: true };
  const files = new Map(
    Object.entries(snippets).map(([name, text]) => [path.join(root, 'test', `snippet-${name}.ts`), IMPORTS + text]),
  );
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (file) => files.has(file) || fileExists.call(host, file);
  host.readFile = (file) => files.get(file) ?? readFile.call(host, file);
  host.getSourceFile = (file, language, ...rest) => {
    const text = files.get(file);
    if (text !== undefined) return ts.createSourceFile(file, text, language);
    return getSourceFile.call(host, file, language, ...rest);
  };
  const program = ts.createProgram([...files.keys()], options, host);
  const result: Record<string, string[]> = {};
  for (const [file] of files) {
    const name = path.basename(file, '.ts').slice('snippet-'.length);
    result[name] = ts
      .getPreEmitDiagnostics(program, program.getSourceFile(file))
      .map((d) => `TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
  }
  return result;
}

const IMPORTS = `import type { Buffer } from 'node:buffer';
import { AF_INET6, socket } from '../src/socket';
import type { Address } from '../src/socket';
import {
  DatagramRequestHandler, ForkingMixIn, ForkingTCPServer, StreamRequestHandler, TCPServer, ThreadingMixIn,
  ThreadingTCPServer, UDPServer,
} from '../src/socketserver';
export type Used = [Buffer, socket, Address, typeof AF_INET6, typeof DatagramRequestHandler, typeof ForkingMixIn,
  typeof ForkingTCPServer, typeof StreamRequestHandler, typeof TCPServer, typeof ThreadingMixIn,
  typeof ThreadingTCPServer, typeof UDPServer];
`;

/** Every snippet of this file, by name: checked in one program, as a program costs seconds. */
const SNIPPETS: Record<string, string> = {
  field: `export class S extends TCPServer { override allow_reuse_address = true; }\n`,
  family: `export class S extends TCPServer { override address_family = AF_INET6; }\n`,
  threading: `export class S extends ThreadingTCPServer { override daemon_threads = true; }\n`,
  forking: `export class S extends ForkingTCPServer { override max_children = 2; }\n`,
  udp: `export class S extends UDPServer { override max_packet_size = 2; }\n`,
  handler: `export class H extends StreamRequestHandler { override timeout = 5; }\n`,
  statics: `export class S extends ThreadingTCPServer {
  static override allow_reuse_address = true;
  static override address_family = AF_INET6;
  static override request_queue_size = 50;
  static override daemon_threads = true;
}
export class F extends ForkingTCPServer { static override max_children = 2; static override timeout = 1; }
export class H extends StreamRequestHandler { static override timeout: number | null = 5; static override rbufsize = 0; }
export function assign(s: S, f: F): void {
  s.timeout = 2;
  s.allow_reuse_address = false;
  s.daemon_threads = false;
  f.max_children = 3;
}
`,
  typed: `class Counting extends ThreadingTCPServer {
  count = 0;
}
class H extends StreamRequestHandler<Counting> {
  override handle(): void {
    this.server.count += 1;
    const peer: Address = this.request.getpeername();
    const same: socket = this.connection;
    void [peer, same, this.client_address];
  }
}
class D extends DatagramRequestHandler {
  override handle(): void {
    const [data, sock]: [Buffer, socket] = this.request;
    sock.sendto(data, this.client_address);
  }
}
export const servers = [new Counting(['127.0.0.1', 0], H), new UDPServer(['127.0.0.1', 0], D, false)];
`,
  serverIsBase: `export class H extends StreamRequestHandler {
  override handle(): void { void this.server.count; }
}
`,
  requestIsSocket: `export class H extends StreamRequestHandler {
  override handle(): void { const n: number = this.request; void n; }
}
`,
  datagramIsPair: `export class D extends DatagramRequestHandler {
  override handle(): void { this.request.getpeername(); }
}
`,
  mixed: `const Threading = ThreadingMixIn(UDPServer);
const t = new Threading(['127.0.0.1', 0], DatagramRequestHandler, false);
const daemon: boolean = t.daemon_threads;
const size: number = t.max_packet_size;
const statics: [boolean, number, boolean] = [Threading.block_on_close, Threading.max_packet_size, Threading.allow_reuse_port];
export class F extends ForkingMixIn(TCPServer) {
  static override max_children = 4;
  override async server_close(): Promise<void> {
    await super.server_close();
    await this.collect_children();
  }
}
const children: Set<number> | null = new F(['127.0.0.1', 0], StreamRequestHandler).active_children;
export const used = [daemon, size, statics, children];
`,
  arguments: `const Threading = ThreadingMixIn(TCPServer);
export const t = new Threading(['127.0.0.1', 0]);
`,
  notAClass: `export const T = ThreadingMixIn(42);\n`,
  unknownMember: `export const n: unknown = new ThreadingTCPServer(['127.0.0.1', 0], StreamRequestHandler).no_such_member;\n`,
};

let results: Record<string, string[]> | null = null;

/** The diagnostics of one snippet. */
function checked(name: string): string[] {
  results ??= typeCheck(SNIPPETS);
  return results[name]!;
}

describe('class attributes under tsc', () => {
  it('a subclass field for a class attribute is TS2610; the static compiles', () => {
    for (const name of ['field', 'family', 'threading', 'forking', 'udp', 'handler']) {
      expect(checked(name), name).toHaveLength(1);
      expect(checked(name)[0], name).toMatch(/^TS2610 .* is defined as an accessor in class/);
    }
    expect(checked('statics')).toEqual([]);
  }, 60_000);
});

describe('handler and mix-in types under tsc', () => {
  it("request, client_address and server are typed; StreamRequestHandler<S> reads S's fields", () => {
    expect(checked('typed')).toEqual([]);
    expect(checked('serverIsBase')).toEqual([expect.stringMatching(/^TS2339 Property 'count' does not exist on type 'BaseServer'/)]);
    expect(checked('requestIsSocket')).toEqual([expect.stringMatching(/^TS2322 Type 'socket' is not assignable to type 'number'/)]);
    expect(checked('datagramIsPair')).toEqual([expect.stringMatching(/^TS2339 Property 'getpeername' does not exist on type '\[Buffer/)]);
  }, 60_000);

  it("a mix-in's class has Base's constructor and statics and its own members", () => {
    expect(checked('mixed')).toEqual([]);
    expect(checked('arguments')).toEqual([expect.stringMatching(/^TS2554 Expected 2-3 arguments, but got 1/)]);
    expect(checked('notAClass')).toEqual([expect.stringMatching(/^TS2345 Argument of type 'number'/)]);
    expect(checked('unknownMember')).toEqual([expect.stringMatching(/^TS2339 Property 'no_such_member' does not exist/)]);
  }, 60_000);

  it('the declarations of asyncore/socketserver say `any` nowhere', () => {
    const options: ts.CompilerOptions = {
      ...compilerOptions(),
      noEmit: false,
      declaration: true,
      emitDeclarationOnly: true,
      rootDir: path.join(root, 'src'),
      outDir: path.join(root, 'dist'),
    };
    const program = ts.createProgram([path.join(root, 'src', 'socketserver.ts')], options);
    const anys: string[] = [];
    program.emit(undefined, (file, text) => {
      const relative = path.relative(path.join(root, 'dist'), file);
      if (!relative.startsWith('socketserver')) return;
      const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
      const visit = (node: ts.Node): void => {
        if (node.kind === ts.SyntaxKind.AnyKeyword) {
          const { line } = source.getLineAndCharacterOfPosition(node.getStart());
          anys.push(`${relative}:${line + 1}: ${text.split('\n')[line]!.trim()}`);
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
    });
    expect(anys).toEqual([]);
  }, 60_000);
});
