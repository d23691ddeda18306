/**
 * scripts/ensure-tools.sh, which `npm test` runs first: on a machine without the tools the tests
 * need it installs them with apt-get as root, and otherwise stops at once with the one command to
 * run. The "machine" is a PATH holding only what the case needs, with `id` and `apt-get` recorders.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const script = fileURLToPath(new URL('../../../../scripts/ensure-tools.sh', import.meta.url));
const ALL = ['nats-server', 'haproxy', 'chromium', 'openssl', 'mosquitto_sub'];

function which(tool: string): string {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    try {
      readFileSync(path.join(dir, tool), { flag: 'r' }).subarray(0, 1);
      return path.join(dir, tool);
    } catch {
      // not here
    }
  }
  throw new Error(`${tool} is not installed here`);
}

/** A bin folder with the given real tools, `id -u` printing `uid` and an `apt-get` that logs its arguments. */
function machine(tools: readonly string[], uid: number): { bin: string; aptLog: string } {
  const bin = mkdtempSync(path.join(tmpdir(), 'xbar-tools-'));
  for (const t of tools) symlinkSync(which(t), path.join(bin, t));
  const aptLog = path.join(bin, 'apt.log');
  const fake = (name: string, body: string) => {
    writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(path.join(bin, name), 0o755);
  };
  fake('id', `echo ${uid}`);
  fake('apt-get', `echo "apt-get $*" >> ${aptLog}`);
  return { bin, aptLog };
}

function run(bin: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('/bin/bash', [script], { env: { PATH: bin }, timeout: 20_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}

const log = (file: string): string => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};

describe('scripts/ensure-tools.sh (npm test runs it first)', () => {
  it('does nothing when every tool is there', async () => {
    const m = machine(ALL, 1000);
    const r = await run(m.bin);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout + r.stderr, '');
    assert.equal(log(m.aptLog), '');
  });

  it('not root: stops with one line naming the exact install command, installing nothing', async () => {
    const m = machine(['openssl', 'chromium'], 1000);
    const r = await run(m.bin);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'xbar tests need system packages: run  sudo apt-get install -y nats-server haproxy mosquitto-clients\n');
    assert.equal(log(m.aptLog), '');
  });

  it('root: installs exactly the missing packages with apt-get update and install', async () => {
    const m = machine(['openssl', 'chromium', 'nats-server'], 0);
    const r = await run(m.bin);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(log(m.aptLog), 'apt-get update -qq\napt-get install -y -qq haproxy mosquitto-clients\n');
  });
});
