/**
 * The pieces of starting a worker process: its environment (Crossbar.io's `create_process_env`),
 * finding its executable (workdir, then PATH) and reading its output as bounded log lines.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { resolveExecutable } from '../../../src/workers/executable.js';
import { eachLine } from '../../../src/workers/output-lines.js';
import { processEnv } from '../../../src/workers/process-env.js';

describe('worker environment (create_process_env)', () => {
  const parent = { HOME: '/root', PATH: '/bin', PYTHONUNBUFFERED: '0' };
  it('inherits everything by default, and keeps an inherited PYTHONUNBUFFERED', () => {
    assert.deepEqual(processEnv({ inherit: true, vars: { A: 'b' } }, parent), { ...parent, A: 'b' });
  });
  it('inherits nothing with false, only the listed names with a list, and sets PYTHONUNBUFFERED=1 when none is set', () => {
    assert.deepEqual(processEnv({ inherit: false, vars: {} }, parent), { PYTHONUNBUFFERED: '1' });
    assert.deepEqual(processEnv({ inherit: ['HOME', 'MISSING'], vars: { X: 'y' } }, parent), { HOME: '/root', X: 'y', PYTHONUNBUFFERED: '1' });
    assert.deepEqual(processEnv({ inherit: ['PYTHONUNBUFFERED'], vars: {} }, parent), { PYTHONUNBUFFERED: '0' });
  });
  it('lets vars override inherited values', () => {
    assert.equal(processEnv({ inherit: true, vars: { HOME: '/tmp' } }, parent).HOME, '/tmp');
  });
});

describe('guest executable', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xbar-exe-'));
  const bin = join(dir, 'bin');
  writeFileSync(join(dir, 'tool'), '#!/bin/sh\n');
  chmodSync(join(dir, 'tool'), 0o755);
  writeFileSync(join(dir, 'data.txt'), 'not executable');
  it('is taken relative to the working directory first', () => {
    assert.equal(resolveExecutable('tool', dir, bin), join(dir, 'tool'));
    assert.equal(resolveExecutable('./tool', dir, bin), join(dir, 'tool'));
    assert.equal(resolveExecutable(join(dir, 'tool'), '/', bin), join(dir, 'tool'));
  });
  it('is looked up on PATH when not found there, and never as a file without the execute bit', () => {
    assert.equal(resolveExecutable('tool', '/', `/nonexistent:${dir}`), join(dir, 'tool'));
    assert.equal(resolveExecutable('data.txt', dir, dir), undefined);
    assert.equal(resolveExecutable('missing', dir, dir), undefined);
    assert.equal(resolveExecutable('../nope/tool', dir, dir), undefined, 'a name with a directory part is not searched on PATH');
  });
});

describe('worker output lines', () => {
  async function lines(chunks: (string | Buffer)[], max?: number): Promise<string[]> {
    const s = new PassThrough();
    const out: string[] = [];
    eachLine(s, (l) => out.push(l), max);
    const ended = once(s, 'end');
    for (const c of chunks) s.write(c);
    s.end();
    await ended;
    return out;
  }
  it('splits at \\n and \\r\\n across chunks, trims, skips blank lines, and emits the last partial line at the end', async () => {
    assert.deepEqual(await lines(['a\nb', 'c\r\n\n  d  \r\n', 'tail']), ['a', 'bc', 'd', 'tail']);
  });
  it('keeps a UTF-8 character split over two chunks whole', async () => {
    const bytes = Buffer.from('héllo\n');
    assert.deepEqual(await lines([bytes.subarray(0, 2), bytes.subarray(2)]), ['héllo']);
  });
  it('emits a line that never ends in pieces of at most the limit (memory stays bounded)', async () => {
    assert.deepEqual(await lines(['x'.repeat(25)], 10), ['x'.repeat(10), 'x'.repeat(10), 'x'.repeat(5)]);
  });
});
