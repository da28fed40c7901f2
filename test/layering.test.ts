// The layers of how the package waits: one watcher on the native poller,
// and three front ends (asyncore's passes, socketserver's waits, Twisted's
// reactor) as its clients, none riding another's classes.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const srcDir = path.join(__dirname, '..', 'src');

function sources(dir = srcDir): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sources(full));
    else if (entry.name.endsWith('.ts')) files.push(full);
  }
  return files;
}

function relative(file: string): string {
  return path.relative(srcDir, file).split(path.sep).join('/');
}

describe('how the package waits', () => {
  it('only the watcher and the select module make native pollers', () => {
    const makers = sources()
      .filter((file) => /new Poller\(/.test(readFileSync(file, 'utf8')))
      .map(relative)
      .sort();
    expect(makers).toEqual(['select.ts', 'watcher.ts']);
  });

  it('asyncore, socketserver and twisted wait through the watcher', () => {
    const clients = sources()
      .filter((file) => /from '\.\.?\/(\.\.\/)?watcher'/.test(readFileSync(file, 'utf8')))
      .map(relative);
    expect(clients.some((f) => f.startsWith('asyncore/'))).toBe(true);
    expect(clients.some((f) => f.startsWith('socketserver/'))).toBe(true);
    expect(clients.some((f) => f.startsWith('twisted/'))).toBe(true);
  });

  it('twisted does not import asyncore, nor socketserver either', () => {
    const riders = sources(path.join(srcDir, 'twisted'))
      .filter((file) => /from '\.\.\/(asyncore|asynchat|socketserver)(\/|')/.test(readFileSync(file, 'utf8')))
      .map(relative);
    expect(riders).toEqual([]);
  });

  it('"reactor" names Twisted\'s reactor only', () => {
    const named = sources()
      .map(relative)
      .filter((file) => !file.startsWith('twisted') && /reactor/i.test(file));
    expect(named).toEqual([]);
  });
});
