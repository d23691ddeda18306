#!/usr/bin/env node
/**
 * Runs `node bin/xbar.js check` over every `.crossbar/config.json` under a crossbar-examples
 * checkout and prints how many pass, and the failures grouped by the first problem xbar reports
 * (the key it refuses, with the value when it is a `type`). A second table counts every problem
 * key per config, so one feature's reach is visible even behind another refusal.
 *
 *   node scripts/check-crossbar-examples.mjs /path/to/crossbar-examples [--json] [--list]
 *
 * --list prints each config with its first problem; --json prints the tally as one JSON line.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const root = args.find((a) => !a.startsWith('--'));
if (!root) {
  process.stderr.write('usage: check-crossbar-examples.mjs CROSSBAR_EXAMPLES_DIR [--json] [--list]\n');
  process.exit(2);
}
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
const xbar = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'xbar.js');

/** Every `.crossbar/config.json` below `dir`, sorted. */
function configs(dir) {
  const found = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (!e.isDirectory() || e.name === 'node_modules' || e.name === '.git') continue;
      const sub = join(d, e.name);
      if (e.name === '.crossbar') {
        if (readdirSync(sub).includes('config.json')) found.push(join(sub, 'config.json'));
      } else walk(sub);
    }
  };
  walk(dir);
  return found.sort();
}

function check(file) {
  return new Promise((done) => {
    const child = spawn(process.execPath, [xbar, 'check', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (out += b));
    child.on('close', (code) => done({ file, ok: code === 0, out }));
  });
}

/**
 * A problem line "  workers[0].transports[1].paths.x.type: expected …, got "static"; …" → its key
 * without indices or path names ("transports.paths.type") plus the refused type value.
 */
function label(line) {
  const m = /^\s*(\S+?): (.*)$/.exec(line);
  if (!m) return line.trim().slice(0, 100);
  const [, key, message] = m;
  const parts = key.replace(/\[\d+\]/g, '').replace(/\["[^"]*"\]/g, '.*').split('.');
  // A path's name (the key after "paths") is not part of the feature.
  const shape = parts.filter((p, i) => p !== '' && p !== '*' && parts[i - 1] !== 'paths').join('.');
  const got = /got "([^"]+)"/.exec(message);
  if (shape.endsWith('type') && got) return `${shape} = ${got[1]}`;
  // A refusal without a value ("Python components are not run…"): the reason tells features apart.
  return shape.endsWith('type') ? `${shape}: ${message.split(/[;:]/)[0].slice(0, 60)}` : shape;
}

function problems(out) {
  return out
    .split('\n')
    .filter((l) => /^\s{2}\S/.test(l))
    .map(label);
}

const files = configs(resolve(root));
const results = [];
const queue = [...files];
const workers = Array.from({ length: Math.max(1, Math.min(4, cpus().length)) }, async () => {
  for (let f = queue.shift(); f !== undefined; f = queue.shift()) results.push(await check(f));
});
await Promise.all(workers);
results.sort((a, b) => a.file.localeCompare(b.file));

const failed = results.filter((r) => !r.ok);
const byFirst = new Map();
const byAny = new Map();
for (const r of failed) {
  const ps = problems(r.out);
  const first = ps[0] ?? r.out.trim().split('\n')[0] ?? '(no message)';
  r.first = first;
  byFirst.set(first, [...(byFirst.get(first) ?? []), r.file]);
  for (const p of new Set(ps)) byAny.set(p, (byAny.get(p) ?? 0) + 1);
}
const sorted = (m) => [...m.entries()].sort((a, b) => (typeof b[1] === 'number' ? b[1] - a[1] : b[1].length - a[1].length) || a[0].localeCompare(b[0]));

if (args.includes('--json')) {
  process.stdout.write(
    JSON.stringify({
      configs: results.length,
      pass: results.length - failed.length,
      fail: failed.length,
      firstProblem: Object.fromEntries(sorted(byFirst).map(([k, v]) => [k, v.length])),
      anyProblem: Object.fromEntries(sorted(byAny)),
    }) + '\n',
  );
} else {
  const rel = (f) => relative(resolve(root), f);
  process.stdout.write(`${results.length} configs: ${results.length - failed.length} pass, ${failed.length} fail\n\n`);
  process.stdout.write('failures by first problem:\n');
  for (const [k, v] of sorted(byFirst)) process.stdout.write(`  ${String(v.length).padStart(4)}  ${k}\n`);
  process.stdout.write('\nconfigs with each problem (anywhere in the config):\n');
  for (const [k, n] of sorted(byAny)) process.stdout.write(`  ${String(n).padStart(4)}  ${k}\n`);
  if (args.includes('--list')) {
    process.stdout.write('\n');
    for (const r of results) process.stdout.write(`${r.ok ? 'pass' : 'FAIL'}  ${rel(r.file)}${r.ok ? '' : `  (${r.first})`}\n`);
  }
}
