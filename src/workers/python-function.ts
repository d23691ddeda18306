/**
 * A Crossbar.io `function` authenticator run as xbar runs Python components: a child process of
 * the system's Python (python/xbar_function_host.py) that imports `create`, calls it with the
 * config's `config`, and answers `authenticate(realm, authid, details)` per request. It is a
 * `ProcedureCaller`, so the dynamic authenticators call it as they would call a WAMP procedure:
 * its answer, or its ApplicationError (forwarded as ABORT), or a failure (authentication_failed).
 *
 * Started on the first authentication (once per configured authenticator), restarted on the next
 * one after it ended; every request has the caller's timeout, at most MAX_PENDING wait at once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { FunctionAuthenticatorConfig } from '../config/types-auth.js';
import type { CallFailure, ProcedureCaller } from '../auth/procedure-caller.js';
import { eachLine } from './output-lines.js';
import { systemPython } from '../config/system-python.js';
import { ErrorUri } from '../wamp/errors.js';

const HOST_SCRIPT = fileURLToPath(new URL('../../../src/workers/python/xbar_function_host.py', import.meta.url));

/** Authentications waiting for the function at once; more are refused at once. */
export const MAX_PENDING = 1000;
/** Largest request line (the host's LineReceiver limit): a bigger HELLO fails alone, never the process. */
export const MAX_REQUEST_BYTES = 1024 * 1024;
/** How long the function's process may take to import and create the authenticator, ms. */
const START_TIMEOUT_MS = 30_000;

type Answer =
  | { event: 'missing'; module: string; error: string }
  | { event: 'failed'; error: string }
  | { event: 'ready' }
  | { id: number; result?: unknown; error?: string; args?: unknown[] };

interface Pending {
  resolve(v: unknown): void;
  reject(e: unknown): void;
  timer: NodeJS.Timeout;
}

const failure = (uri: string, message: string): CallFailure => ({ uri, args: [message] });

export class PythonFunctionCaller implements ProcedureCaller {
  private child: ChildProcess | undefined;
  private ready: Promise<ChildProcess> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  private readonly log: Logger;

  constructor(private readonly config: FunctionAuthenticatorConfig, log: Logger) {
    this.log = log.child({ authenticator: config.create, type: 'function' });
  }

  async call(_realm: string, _role: string, _procedure: string, args: unknown[], timeoutMs: number): Promise<unknown> {
    if (this.pending.size >= MAX_PENDING) throw failure(ErrorUri.runtimeError, 'too many authentications waiting for the function');
    const id = this.nextId++;
    const line = `${JSON.stringify({ id, args })}\n`;
    if (Buffer.byteLength(line) > MAX_REQUEST_BYTES) throw failure(ErrorUri.runtimeError, 'authentication details too large for the function');
    const child = await this.start();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(failure(ErrorUri.timeout, `the function did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      child.stdin!.write(line);
    });
  }

  private start(): Promise<ChildProcess> {
    if (this.closed) return Promise.reject(failure(ErrorUri.canceled, 'the node is stopping'));
    this.ready ??= new Promise<ChildProcess>((resolve, reject) => {
      const python = this.config.python ?? systemPython();
      const child = spawn(python, ['-u', HOST_SCRIPT], { cwd: this.config.cbdir, stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
      this.child = child;
      const timer = setTimeout(() => {
        reject(new Error(`${this.config.create}: the function's process did not start within ${START_TIMEOUT_MS} ms`));
        child.kill('SIGKILL');
      }, START_TIMEOUT_MS);
      const fail = (message: string) => {
        clearTimeout(timer);
        this.log.error(message);
        reject(failure(ErrorUri.runtimeError, message));
      };
      child.on('error', (e) => fail(`could not start ${python} for the function authenticator ${this.config.create}: ${e.message} (apt-get install python3 python3-autobahn)`));
      child.stdin!.on('error', () => {});
      child.stdin!.write(`${JSON.stringify({ cbdir: this.config.cbdir, pythonpath: this.config.pythonpath, create: this.config.create, config: this.config.config })}\n`);
      eachLine(child.stdout!, (line) => this.log.info({ stream: 'stdout' }, line));
      eachLine(child.stderr!, (line) => this.log.warn({ stream: 'stderr' }, line));
      eachLine(child.stdio[3] as Readable, (line) => {
        let a: Answer;
        try {
          a = JSON.parse(line) as Answer;
        } catch {
          return;
        }
        if ('event' in a) {
          if (a.event === 'ready') {
            clearTimeout(timer);
            this.log.info({ pid: child.pid }, 'function authenticator ready');
            resolve(child);
          } else if (a.event === 'missing') {
            fail(`the function authenticator ${this.config.create} needs Autobahn|Python (Twisted), which ${python} cannot import (${a.error}): apt-get install python3-autobahn`);
          } else fail(`function authenticator ${this.config.create}: ${a.error}`);
          return;
        }
        const p = this.pending.get(a.id);
        if (!p) return;
        this.pending.delete(a.id);
        clearTimeout(p.timer);
        if (a.error !== undefined) p.reject({ uri: a.error, args: a.args ?? [] } satisfies CallFailure);
        else p.resolve(a.result);
      }, 4 * 1024 * 1024);
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        if (this.child === child) {
          this.child = undefined;
          this.ready = undefined;
        }
        for (const [id, p] of this.pending) {
          clearTimeout(p.timer);
          p.reject(failure(ErrorUri.runtimeError, 'the function\'s process ended'));
          this.pending.delete(id);
        }
        if (!this.closed) this.log.warn({ code, signal }, 'function authenticator process ended; started again on the next authentication');
        reject(failure(ErrorUri.runtimeError, `the function's process ended (${signal ?? `exit code ${code}`})`));
      });
    });
    return this.ready;
  }

  close(): void {
    this.closed = true;
    this.child?.kill('SIGTERM');
  }
}
