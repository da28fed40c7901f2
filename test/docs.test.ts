// Every public name has a doc comment: what editors show on hover and what
// the reference (npm run docs) is made of. The entry points are read from
// package.json "exports", so a new one is covered as soon as it is added;
// for each, every exported name, and every public member of an exported
// class or interface (own or inherited doc, as an editor shows it), must
// carry TSDoc text. Overloads need their own.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  name: string;
  exports: Record<string, string | { require?: { types?: string } }>;
};

/** [import specifier, source file] of each entry point: dist/NAME.d.ts comes from src/NAME.ts. */
function entryPoints(): Array<[string, string]> {
  const entries: Array<[string, string]> = [];
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (typeof target === 'string') continue; // ./package.json
    const types = target.require?.types;
    if (typeof types !== 'string' || !types.startsWith('./dist/') || !types.endsWith('.d.ts')) {
      throw new Error(`exports[${JSON.stringify(subpath)}] has no ./dist/*.d.ts require types`);
    }
    const source = path.join(root, 'src', `${types.slice('./dist/'.length, -'.d.ts'.length)}.ts`);
    entries.push([subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`, source]);
  }
  return entries;
}

const entries = entryPoints();
const config = ts.getParsedCommandLineOfConfigFile(path.join(root, 'tsconfig.build.json'), {}, {
  ...ts.sys,
  onUnRecoverableConfigFileDiagnostic: (d) => {
    throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  },
})!;
const program = ts.createProgram(
  entries.map(([, file]) => file),
  { ...config.options, noEmit: true },
);
const checker = program.getTypeChecker();

function docText(symbol: ts.Symbol): string {
  return ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim();
}

/** JSDoc text written on this declaration itself (or its statement, for a variable). */
function ownDoc(node: ts.Node): string {
  const target = ts.isVariableDeclaration(node) ? node.parent.parent : node;
  return ts
    .getJSDocCommentsAndTags(target)
    .filter(ts.isJSDoc)
    .map((doc) => ts.getTextOfJSDocComment(doc.comment) ?? '')
    .join('\n')
    .trim();
}

/** Declared in this package's sources (not Node's or the standard library's types). */
function isOurs(declaration: ts.Node): boolean {
  return path.resolve(declaration.getSourceFile().fileName).startsWith(path.join(root, 'src') + path.sep);
}

function isPrivate(declaration: ts.Declaration): boolean {
  const name = ts.getNameOfDeclaration(declaration);
  if (name && ts.isPrivateIdentifier(name)) return true;
  return (ts.getCombinedModifierFlags(declaration) & ts.ModifierFlags.Private) !== 0;
}

function where(declaration: ts.Node): string {
  const file = declaration.getSourceFile();
  const { line } = file.getLineAndCharacterOfPosition(declaration.getStart());
  return `${path.relative(root, file.fileName)}:${line + 1}`;
}

/** Every undocumented public name reachable from one entry point, as "entry: name (file:line)". */
function undocumented(specifier: string, file: string): string[] {
  const source = program.getSourceFile(file);
  if (!source) return [`${specifier}: ${file} is not in the program`];
  const moduleSymbol = checker.getSymbolAtLocation(source);
  if (!moduleSymbol) return [`${specifier}: ${file} is not a module`];
  const missing: string[] = [];
  const seen = new Set<ts.Symbol>();

  const checkSymbol = (label: string, symbol: ts.Symbol): void => {
    const declarations = symbol.getDeclarations() ?? [];
    // Overloads: each signature is shown on its own, so each needs its doc.
    const signatures = declarations.filter(
      (d) => (ts.isFunctionDeclaration(d) || ts.isMethodDeclaration(d)) && d.body === undefined,
    );
    if (signatures.length > 1) {
      for (const signature of signatures) {
        if (!ownDoc(signature)) missing.push(`${label} (overload at ${where(signature)})`);
      }
    } else if (!docText(symbol)) {
      missing.push(`${label} (${declarations[0] ? where(declarations[0]) : 'no declaration'})`);
    }
  };

  const checkMembers = (label: string, table: ts.SymbolTable | undefined, separator: string): void => {
    table?.forEach((member, escapedName) => {
      const name = String(escapedName);
      const declarations = member.getDeclarations() ?? [];
      if (declarations.length === 0 || declarations.some(isPrivate)) return;
      if (escapedName === ts.InternalSymbolName.Constructor) {
        // A constructor written out (not inherited) says what it takes.
        const written = declarations.filter((d) => ts.isConstructorDeclaration(d) && d.body !== undefined);
        if (written.length > 0 && !ownDoc(written[0]) && !docText(member)) {
          missing.push(`${label} constructor (${where(written[0])})`);
        }
        return;
      }
      if (escapedName === ts.InternalSymbolName.Index) return;
      if (name === 'prototype' || member.flags & ts.SymbolFlags.TypeParameter) return;
      checkSymbol(`${label}${separator}${name}`, member);
    });
  };

  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const label = `${specifier}: ${exported.getName()}`;
    const target = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    if (target.flags & ts.SymbolFlags.ValueModule) {
      // `export * as name from './module'`: the export statement carries the doc.
      const statement = exported.getDeclarations()?.[0]?.parent;
      if (!statement || !ownDoc(statement)) missing.push(`${label} (namespace export)`);
      continue;
    }
    checkSymbol(label, target);
    if (seen.has(target)) continue;
    seen.add(target);
    if (target.flags & (ts.SymbolFlags.Class | ts.SymbolFlags.Interface)) {
      checkMembers(label, target.members, '.');
      if (target.flags & ts.SymbolFlags.Class) checkMembers(label, target.exports, ' static ');
    }
    if (target.flags & ts.SymbolFlags.Class) {
      // What a class gets from a base that is not exported itself (a mixin's
      // class expression, an internal base class) shows on the class too.
      const inherited: ts.SymbolTable = new Map(
        checker
          .getPropertiesOfType(checker.getDeclaredTypeOfSymbol(target))
          .filter((member) => !target.members?.has(member.escapedName))
          .filter((member) => (member.getDeclarations() ?? []).every((d) => isOurs(d)))
          .map((member) => [member.escapedName, member]),
      );
      checkMembers(label, inherited, '.');
    }
  }
  return missing;
}

describe('documentation', () => {
  it('finds the entry points in package.json "exports"', () => {
    expect(entries.map(([specifier]) => specifier)).toEqual(
      expect.arrayContaining(['asyncore', 'asyncore/asynchat', 'asyncore/select', 'asyncore/socket', 'asyncore/posix']),
    );
  });

  it.each(entries)('every public name of %s has a doc comment', (specifier, file) => {
    expect(undocumented(specifier, file)).toEqual([]);
  });

  it('the check itself reports a name without a doc', () => {
    const file = path.join(root, 'test', 'fixtures', 'undocumented.ts');
    const host = ts.createCompilerHost({ ...config.options, noEmit: true });
    const text =
      '/** A documented class. */\nexport class Documented {\n  /** Documented. */\n  ok(): void {}\n  missing(): void {}\n}\n' +
      'export function bare(): void {}\n';
    const readFile = host.readFile;
    host.readFile = (name) => (name === file ? text : readFile(name));
    host.fileExists = ((exists) => (name: string) => name === file || exists(name))(host.fileExists);
    const getSourceFile = host.getSourceFile;
    host.getSourceFile = (name, language) =>
      name === file ? ts.createSourceFile(name, text, language, true) : getSourceFile(name, language);
    const fixture = ts.createProgram([file], { ...config.options, noEmit: true }, host);
    const fixtureChecker = fixture.getTypeChecker();
    const moduleSymbol = fixtureChecker.getSymbolAtLocation(fixture.getSourceFile(file)!)!;
    const names = fixtureChecker
      .getExportsOfModule(moduleSymbol)
      .flatMap((s) => [s, ...[...(s.members?.values() ?? [])]])
      .filter((s) => !ts.displayPartsToString(s.getDocumentationComment(fixtureChecker)).trim())
      .map((s) => s.getName());
    expect(names.sort()).toEqual(['bare', 'missing']);
  });
});

/**
 * Names with a leading underscore that are Python's own and that a port
 * reaches for (CPython's tests and subclasses use them); any other `_name`
 * in the reference is this package's internals, to tag @internal.
 */
const PYTHON_UNDERSCORE_NAMES = new Set([
  '_exception', // asyncore._exception(), as test_asyncore calls it
  '_strerror', // asyncore._strerror()
  '_map', // dispatcher._map
  '_fileno', // dispatcher._fileno
  '__module__', // the class attribute repr() reads
  '_collect_incoming_data', // async_chat's, for subclasses
  '_get_data', // async_chat's, for subclasses
  '_handle_request_noblock', // BaseServer's, which servers override
  '__all__', // socketserver.__all__
]);

interface Reflection {
  name: string;
  children?: Reflection[];
}

/** "module.Class.member" of every reflection whose own name is a package-internal `_name`. */
function internalNames(reflection: Reflection, prefix = ''): string[] {
  const label = prefix ? `${prefix}.${reflection.name}` : reflection.name;
  const own = prefix && reflection.name.startsWith('_') && !PYTHON_UNDERSCORE_NAMES.has(reflection.name) ? [label] : [];
  return [...own, ...(reflection.children ?? []).flatMap((child) => internalNames(child, prefix ? label : ' '))].map(
    (name) => name.trim().replace(/^\./, ''),
  );
}

describe('the reference (npm run docs)', { timeout: 180_000 }, () => {
  const out = mkdtempSync(path.join(tmpdir(), 'asyncore-docs-'));
  let log = '';
  let project: Reflection = { name: '' };

  beforeAll(() => {
    const json = path.join(out, 'project.json');
    // What `npm run docs` runs, into a scratch directory, with the JSON model of the reference.
    const run = spawnSync(
      process.execPath,
      [path.join(root, 'scripts', 'docs.mjs'), '--out', path.join(out, 'html'), '--json', json],
      { cwd: root, encoding: 'utf8' },
    );
    // TypeDoc writes its warnings to stderr.
    log = `${run.stdout}${run.stderr}${run.error ? String(run.error) : ''}`;
    log = stripVTControlCharacters(log);
    if (existsSync(json)) project = JSON.parse(readFileSync(json, 'utf8')) as Reflection;
  }, 180_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('is made with no warning and no error', () => {
    expect(log.split('\n').filter((line) => /\[(warning|error)\]/.test(line))).toEqual([]);
    expect(project.children?.length).toBe(entries.length);
  });

  it('holds no internals (a `_name` that is not Python\'s)', () => {
    expect(project.children?.length).toBeGreaterThan(0);
    expect([...new Set(internalNames(project))]).toEqual([]);
  });
});

describe('overview pages', () => {
  const readme = readFileSync(path.join(root, 'docs', 'README.md'), 'utf8');
  /** docs/NAME.md for an entry point: the root one is asyncore's. */
  const pages = entries.map(([specifier]) => [specifier, specifier === pkg.name ? 'asyncore' : specifier.split('/')[1]!]);

  it.each(pages)('%s has docs/%s.md, linked from docs/README.md, saying where it differs', (specifier, name) => {
    const file = path.join(root, 'docs', `${name}.md`);
    expect(existsSync(file)).toBe(true);
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/^## Where it differs from (Python|Twisted)$/m);
    // Something under the heading, not just the heading.
    expect(text.split(/^## Where it differs from .*$/m)[1]?.trim().length).toBeGreaterThan(100);
    expect(readme).toContain(`](${name}.md)`);
  });
});
