// The types a Twisted program sees, checked by the TypeScript compiler on
// small programs: a protocol that names its factory reads the factory's
// fields (Twisted's `self.factory.clients` idiom), and a transport is typed
// by Twisted's interfaces, so that a misspelt call or a call of the
// asyncore dispatcher underneath does not compile.
import * as path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '..');

const HEADER = `
import { Buffer } from 'node:buffer';
import { DatagramProtocol, Factory, FileSender, Int32StringReceiver, LineReceiver, Protocol } from '../src/twisted';
import type { ITransport, IUNIXTransport } from '../src/twisted';
class ChatFactory extends Factory {
  clients: Chat[] = [];
}
class Chat extends LineReceiver<ChatFactory> {
  override connectionMade(): void {
    this.factory.clients.push(this);
  }
  override lineReceived(line: Buffer): void {
    for (const client of this.factory.clients) client.sendLine(line);
  }
}
`;

/** Programs that must compile, and programs that must not, with the error each must give. */
const SNIPPETS: Record<string, { body: string; error: RegExp | null }> = {
  factoryFields: {
    error: null,
    body: `
const factory: ChatFactory = ChatFactory.forProtocol(Chat);
const count: number = factory.clients.length;
class Echo extends Protocol {
  override dataReceived(data: Buffer): void {
    this.transport.write(data);
    this.transport.setTcpNoDelay(true);
    const port: number = this.transport.getPeer().port;
    if (port < 0 || this.transport.disconnecting) this.transport.abortConnection();
  }
}
class Framed extends Int32StringReceiver<ChatFactory, IUNIXTransport> {
  override stringReceived(s: Buffer): void {
    this.sendString(s);
    const name: string = this.transport.getPeer().name ?? '';
    void name;
  }
}
class Any extends Protocol<Factory, ITransport> {
  override connectionMade(): void {
    this.transport.loseConnection();
  }
}
class Udp extends DatagramProtocol {
  override datagramReceived(d: Buffer, addr: [string, number]): void {
    this.transport.write(d, addr);
  }
}
new FileSender().beginFileTransfer({ read: () => Buffer.alloc(0) }, new Echo().transport);
void [count, Framed, Any, Udp];
`,
  },
  transportTypo: {
    error: /Property 'wirte' does not exist on type 'ITCPTransport'/,
    body: `
class Typo extends Protocol {
  override dataReceived(data: Buffer): void {
    this.transport.wirte(data);
  }
}
void Typo;
`,
  },
  asyncoreRecv: {
    error: /Property 'recv' does not exist on type 'ITCPTransport'/,
    body: `
class Low extends Protocol {
  override connectionMade(): void {
    this.transport.recv(10);
  }
}
void Low;
`,
  },
  asyncoreEvent: {
    error: /Property 'handle_read_event' does not exist on type 'ITCPTransport'/,
    body: `
class Low extends LineReceiver {
  override connectionMade(): void {
    this.transport.handle_read_event();
  }
}
void Low;
`,
  },
  factoryTypo: {
    error: /Property 'clientz' does not exist on type 'ChatFactory'/,
    body: `
class Typo extends Protocol<ChatFactory> {
  override connectionMade(): void {
    this.factory.clientz.push(this);
  }
}
void Typo;
`,
  },
  udpTransport: {
    error: /Property 'sendLine' does not exist on type 'IUDPTransport'/,
    body: `
class Udp extends DatagramProtocol {
  override startProtocol(): void {
    this.transport.sendLine(Buffer.from('x'));
  }
}
void Udp;
`,
  },
};

function fileOf(name: string): string {
  return path.join(root, 'test', `__twisted_types_${name}.ts`);
}

/** Compiles every snippet in one program; the error messages of each. */
function compile(): Map<string, string[]> {
  const config = ts.getParsedCommandLineOfConfigFile(path.join(root, 'tsconfig.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  })!;
  const options = { ...config.options, noEmit: true };
  const sources = new Map(Object.entries(SNIPPETS).map(([name, s]) => [fileOf(name), HEADER + s.body]));
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (fileName, languageVersion, ...rest) => {
    const text = sources.get(path.resolve(fileName));
    return text !== undefined ? ts.createSourceFile(fileName, text, languageVersion) : getSourceFile(fileName, languageVersion, ...rest);
  };
  host.fileExists = (fileName) => sources.has(path.resolve(fileName)) || fileExists(fileName);
  host.readFile = (fileName) => sources.get(path.resolve(fileName)) ?? readFile(fileName);
  const program = ts.createProgram([...sources.keys()], options, host);
  const errors = new Map<string, string[]>();
  for (const file of sources.keys()) {
    const diagnostics = ts.getPreEmitDiagnostics(program, program.getSourceFile(file));
    errors.set(
      file,
      diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')),
    );
  }
  return errors;
}

describe('Twisted types (issue: transport was any, factory needed `declare`)', () => {
  const errors = compile();
  for (const [name, { error }] of Object.entries(SNIPPETS)) {
    if (error === null) {
      it(`${name}: compiles (this.factory.clients, typed transports)`, () => {
        expect(errors.get(fileOf(name))).toEqual([]);
      });
    } else {
      it(`${name}: does not compile (${error.source})`, () => {
        const messages = errors.get(fileOf(name))!;
        expect(messages.length).toBe(1);
        expect(messages[0]).toMatch(error);
      });
    }
  }
});
