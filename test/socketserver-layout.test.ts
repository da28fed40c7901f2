// How the socketserver sources are built, read from their syntax trees:
// ForkingMixIn's class holds only the server methods it overrides (the
// children are a pool of their own, the child's side another class), no
// cast goes through `unknown`, and the waits go through the shared
// watcher rather than a native poller of their own.
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { root } from './socketserver-support';

const sources = [
  path.join(root, 'src', 'socketserver.ts'),
  ...readdirSync(path.join(root, 'src', 'socketserver')).map((name) => path.join(root, 'src', 'socketserver', name)),
].filter((file) => file.endsWith('.ts'));

function parse(file: string): ts.SourceFile {
  return ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
}

/** Every node of file, depth first. */
function* nodes(file: ts.SourceFile): Generator<ts.Node> {
  const stack: ts.Node[] = [file];
  while (stack.length > 0) {
    const node = stack.pop()!;
    yield node;
    stack.push(...node.getChildren());
  }
}

function where(file: ts.SourceFile, node: ts.Node): string {
  const { line } = file.getLineAndCharacterOfPosition(node.getStart());
  return `${path.relative(root, file.fileName)}:${line + 1}`;
}

describe('socketserver sources', () => {
  it("ForkingMixIn's class declares only the server methods it overrides, and its attributes", () => {
    const file = parse(path.join(root, 'src', 'socketserver', 'forking.ts'));
    const mixin = [...nodes(file)].find(
      (node): node is ts.ClassDeclaration => ts.isClassDeclaration(node) && node.name?.text === 'Forking',
    );
    expect(mixin).toBeDefined();
    const methods = mixin!.members
      .filter((member) => ts.isMethodDeclaration(member))
      .map((member) => (member.name as ts.Identifier).text)
      .sort();
    // Python's ForkingMixIn's, and what a child process does instead of binding and serving.
    expect(methods).toEqual([
      'collect_children',
      'handle_request',
      'handle_timeout',
      'process_request',
      'serve_forever',
      'server_activate',
      'server_bind',
      'server_close',
      'service_actions',
    ]);
  });

  it('no cast goes through unknown (`x as unknown as T`)', () => {
    const casts: string[] = [];
    for (const name of sources) {
      const file = parse(name);
      for (const node of nodes(file)) {
        if (
          ts.isAsExpression(node) &&
          ts.isAsExpression(node.expression) &&
          node.expression.type.kind === ts.SyntaxKind.UnknownKeyword
        ) {
          casts.push(where(file, node));
        }
      }
    }
    expect(casts).toEqual([]);
  });

  it('makes no native poller and calls no epoll_ctl of its own: its waits are the shared watcher’s', () => {
    const found: string[] = [];
    for (const name of sources) {
      const file = parse(name);
      for (const node of nodes(file)) {
        if (ts.isImportDeclaration(node) && (node.moduleSpecifier as ts.StringLiteral).text.endsWith('/poller')) {
          found.push(`${where(file, node)} imports poller`);
        }
        if (ts.isNewExpression(node) && node.expression.getText() === 'Poller') found.push(`${where(file, node)} new Poller`);
        if (ts.isPropertyAccessExpression(node) && node.name.text === 'ctl') found.push(`${where(file, node)} .ctl`);
      }
    }
    expect(found).toEqual([]);
  });
});
