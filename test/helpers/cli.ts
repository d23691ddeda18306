/** Runs the real `xbar` CLI (bin/xbar.js) as a child process. */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const XBAR_BIN = fileURLToPath(new URL('../../../bin/xbar.js', import.meta.url));

export interface CliResult { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

export function runCli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; stdin?: string } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [XBAR_BIN, ...args], { cwd: opts.cwd, env: { ...process.env, ...opts.env } });
    child.stdin.end(opts.stdin ?? '');
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Starts `xbar start …` and resolves once it logs that it started. */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}, opts: { cwd?: string } = {}): Promise<{ child: ChildProcess; output: () => string; exited: Promise<CliResult> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [XBAR_BIN, 'start', ...args], { cwd: opts.cwd, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    const exited = new Promise<CliResult>((r) => child.on('close', (code, signal) => r({ code, signal, stdout, stderr })));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`xbar did not start within 15 s: ${stderr}${stdout}`));
    }, 15_000);
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes('xbar node started')) {
        clearTimeout(timer);
        resolve({ child, output: () => stdout + stderr, exited });
      }
    });
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    void exited.then((r) => reject(new Error(`xbar exited early (${r.code}): ${r.stderr}${r.stdout}`)));
  });
}
