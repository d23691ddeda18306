/**
 * Log lines: readable at a terminal (over a real pseudo-terminal, util-linux `script`), pino JSON
 * into a pipe, and `--log-format` choosing either way.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prettyLine } from '../../../src/cli/log-output.js';
import { XBAR_BIN } from '../../helpers/cli.js';
import { spawnGroup } from '../../helpers/process-group.js';

const ANSI = /\x1b\[[0-9;]*m/g;

/** `xbar start --port 0 …` with its stdout on a pseudo-terminal. */
function startOnTerminal(args: string[], env: NodeJS.ProcessEnv = {}) {
  const command = [process.execPath, XBAR_BIN, 'start', '--port', '0', ...args].map((a) => `'${a}'`).join(' ');
  return spawnGroup('script', ['-qfec', command, '/dev/null'], { env });
}

describe('log format', () => {
  it('at a terminal: one readable line per record (time, level, message, fields), coloured, no pid or hostname', async () => {
    const node = startOnTerminal([], { NO_COLOR: undefined });
    try {
      await node.waitFor(/xbar node started/);
      const raw = node.output();
      assert.match(raw, /\x1b\[32mINFO \x1b\[0m/, 'the level is coloured');
      const lines = raw.replace(ANSI, '').split(/\r?\n/).filter(Boolean);
      assert.ok(lines.length >= 3, raw);
      for (const line of lines) assert.match(line, /^\d\d:\d\d:\d\d\.\d{3} (INFO |WARN ) \S/, `readable: ${line}`);
      assert.ok(lines.some((l) => /^\S+ INFO  listening transport=transport001 type=web address=127\.0\.0\.1:\d+$/.test(l)), raw);
      assert.ok(lines.some((l) => /^\S+ INFO  xbar node started node=\S+ config="\(embedded default\)"$/.test(l)), raw);
      assert.doesNotMatch(raw, /"level"|pid|hostname/);
    } finally {
      await node.stop('SIGINT');
    }
  });

  it('NO_COLOR at a terminal: the same lines without colour', async () => {
    const node = startOnTerminal([], { NO_COLOR: '1' });
    try {
      await node.waitFor(/xbar node started/);
      assert.doesNotMatch(node.output(), ANSI);
      assert.match(node.output(), /^\d\d:\d\d:\d\d\.\d{3} INFO  listening /m);
    } finally {
      await node.stop('SIGINT');
    }
  });

  it('--log-format json at a terminal, and the default into a pipe, are pino JSON lines', async () => {
    const tty = startOnTerminal(['--log-format', 'json']);
    const pipe = spawnGroup(process.execPath, [XBAR_BIN, 'start', '--port', '0']);
    try {
      await Promise.all([tty.waitFor(/xbar node started/), pipe.waitFor(/xbar node started/)]);
      for (const out of [tty.output(), pipe.output()]) {
        const lines = out.split(/\r?\n/).filter(Boolean);
        for (const line of lines) {
          const record = JSON.parse(line) as Record<string, unknown>;
          assert.equal(typeof record.time, 'number');
          assert.equal(typeof record.level, 'number');
        }
        assert.ok(lines.some((l) => (JSON.parse(l) as { msg: string }).msg === 'listening'));
      }
    } finally {
      await Promise.all([tty.stop('SIGINT'), pipe.stop('SIGINT')]);
    }
  });

  it('an error field shows its message, not its stack; other values are quoted only when they must be', () => {
    const line = prettyLine(JSON.stringify({
      level: 50, time: Date.UTC(2026, 0, 1, 12, 0, 0, 7), pid: 1, hostname: 'h', msg: 'call failed',
      session: 42, uri: 'com.example.add', reason: 'two words', err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at x' },
    }));
    assert.match(line, /^\d\d:\d\d:\d\d\.007 ERROR call failed session=42 uri=com\.example\.add reason="two words" err="boom"\n$/);
    assert.equal(prettyLine('not json'), 'not json\n');
  });
});
