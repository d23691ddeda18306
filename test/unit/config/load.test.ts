import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../src/config/issues.js';
import { formatOf, loadConfigFile, readDocument } from '../../../src/config/load.js';
import { fixture } from './config-helpers.js';

/** The problems of a rejected load; fails the test if it succeeds. */
async function loadProblems(path: string): Promise<string[]> {
  try {
    await loadConfigFile(path);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
  assert.fail(`loaded ${path}`);
}

describe('loading a configuration file', () => {
  it('names the file, line and column of a YAML syntax error', async () => {
    const path = fixture('broken.yaml');
    assert.deepEqual(await loadProblems(path), [
      `${path}:6:1: YAML syntax error: All mapping items must start at the same column`,
    ]);
  });

  it('names the file, line and column of a JSON syntax error', async () => {
    const path = fixture('broken.json');
    assert.deepEqual(await loadProblems(path), [`${path}:5:3: JSON syntax error: Unexpected token ']'`]);
  });

  it('reports a file that cannot be read', async () => {
    const path = fixture('does-not-exist.yaml');
    assert.deepEqual(await loadProblems(path), [`${path}: cannot read configuration: no such file`]);
  });

  it('reports a directory given as the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'xbar-config-'));
    try {
      const path = join(dir, 'config.json');
      await mkdir(path);
      assert.deepEqual(await loadProblems(path), [`${path}: cannot read configuration: is a directory, not a file`]);
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it('refuses a file name without a known extension', async () => {
    assert.deepEqual(await loadProblems('/etc/xbar.conf'), [
      '/etc/xbar.conf: unknown configuration file type; expected .json, .yaml or .yml',
    ]);
  });

  it('chooses the format by extension, as Crossbar.io does', () => {
    assert.deepEqual(
      ['a.json', 'a.yaml', 'a.YML', 'a.toml'].map(formatOf),
      ['json', 'yaml', 'yaml', undefined],
    );
  });

  it('reports an empty file instead of an empty document', () => {
    assert.throws(() => readDocument('\n  \n', 'yaml', 'c.yaml'), { problems: ['c.yaml: the file is empty'] });
  });

  it('rejects duplicate YAML keys', () => {
    assert.throws(() => readDocument('version: 2\nversion: 2\n', 'yaml', 'c.yaml'), {
      problems: ['c.yaml:2:1: YAML syntax error: Map keys must be unique'],
    });
  });

  it('points at the end of a truncated JSON document', () => {
    assert.throws(() => readDocument('{\n  "version": 2,\n', 'json', 'c.json'), {
      problems: ['c.json:3:1: JSON syntax error: Expected double-quoted property name'],
    });
  });

  it('accepts a byte order mark', () => {
    assert.deepEqual(readDocument('\uFEFF{"version": 2}', 'json', 'c.json'), { version: 2 });
  });
});
