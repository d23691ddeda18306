/**
 * Keeps one worker process running: spawns it, restarts it by its restart mode with exponential
 * back-off, gives up after too many restarts in a row, and stops it (SIGTERM, then SIGKILL after a
 * grace period). A process that crashes never affects the node: its exit is logged and handled
 * here, and spawning errors (ENOENT, EACCES) are reported, never thrown into the event loop.
 */
import type { ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';
import type { RestartMode } from '../config/types-workers.js';

export interface SupervisionPolicy {
  /** First delay before a restart, ms; doubled for each restart in a row. */
  readonly initialMs: number;
  readonly maxMs: number;
  /** A process that ran this long before it exited counts as a fresh start (the delay starts over). */
  readonly stableMs: number;
  /** Restarts in a row (without a stable run between) before xbar gives up. */
  readonly maxRestarts: number;
  /** On stop, SIGTERM first; a process still running this much later gets SIGKILL. */
  readonly stopGraceMs: number;
}

export const DEFAULT_POLICY: SupervisionPolicy = { initialMs: 1000, maxMs: 30_000, stableMs: 30_000, maxRestarts: 10, stopGraceMs: 5000 };

export type ExitInfo = { readonly code: number | null; readonly signal: NodeJS.Signals | null };

export interface SupervisedProcess {
  /** Spawns the process (called for the first start and every restart). */
  spawn(): ChildProcess;
  /** Called once the process is running. */
  started?(child: ChildProcess): void;
  /** Called after each exit, before any restart is decided. */
  exited?(exit: ExitInfo): void;
  /** Called when the process exited and will not be started again (its restart mode, or xbar gave up); not on stop. */
  ended?(exit: ExitInfo): void;
}

export function failed(exit: ExitInfo): boolean {
  return exit.code !== 0 || exit.signal !== null;
}

export function describeExit(exit: ExitInfo): string {
  return exit.signal !== null ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
}

export class Supervisor {
  private child: ChildProcess | undefined;
  private startedAt = 0;
  private inARow = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  private exitWaiters: (() => void)[] = [];
  /** Restarts done so far. */
  restarts = 0;
  /** True once xbar gave up restarting. */
  gaveUp = false;

  constructor(
    private readonly target: SupervisedProcess,
    private readonly restart: RestartMode,
    private readonly log: Logger,
    private readonly policy: SupervisionPolicy = DEFAULT_POLICY,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Starts the process; rejects when it cannot be spawned at all. */
  start(): Promise<ChildProcess> {
    this.stopping = false;
    return new Promise((resolve, reject) => {
      let child: ChildProcess;
      try {
        child = this.target.spawn();
      } catch (e) {
        reject(e as Error);
        return;
      }
      child.once('spawn', () => {
        this.child = child;
        this.startedAt = Date.now();
        this.log.info({ pid: child.pid }, 'worker process started');
        this.target.started?.(child);
        resolve(child);
      });
      child.once('error', (err) => {
        // Only a failed spawn emits 'error' before 'spawn'; later errors (a failed kill) are logged.
        if (this.child !== child) reject(err);
        else this.log.warn({ err: err.message }, 'worker process error');
      });
      child.once('exit', (code, signal) => {
        if (this.child === child) this.onExit(child, { code, signal });
      });
    });
  }

  private onExit(child: ChildProcess, exit: ExitInfo): void {
    this.child = undefined;
    const ran = Date.now() - this.startedAt;
    this.target.exited?.(exit);
    const waiters = this.exitWaiters;
    this.exitWaiters = [];
    for (const w of waiters) w();
    if (this.stopping) {
      this.log.info({ pid: child.pid, exit: describeExit(exit) }, 'worker process stopped');
      return;
    }
    const again = this.restart === 'restart-always' || (this.restart === 'restart-on-failed' && failed(exit));
    const level = failed(exit) ? 'error' : 'info';
    if (!again) {
      this.log[level]({ pid: child.pid, exit: describeExit(exit), restart: this.restart }, 'worker process exited; not restarted');
      this.target.ended?.(exit);
      return;
    }
    if (ran >= this.policy.stableMs) this.inARow = 0;
    if (this.inARow >= this.policy.maxRestarts) {
      this.gaveUp = true;
      this.log.error(
        { pid: child.pid, exit: describeExit(exit), restarts: this.inARow },
        `worker process exited ${this.inARow} times in a row within ${this.policy.stableMs / 1000} s of starting; not restarted again`,
      );
      this.target.ended?.(exit);
      return;
    }
    const delay = Math.min(this.policy.initialMs * 2 ** this.inARow, this.policy.maxMs);
    this.inARow++;
    this.log[level]({ pid: child.pid, exit: describeExit(exit), inMs: delay }, 'worker process exited; restarting');
    this.schedule(delay);
  }

  /** Starts the process again after `delayMs` (a restart that fails to spawn is retried the same way). */
  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.stopping) return;
      this.restarts++;
      this.start().catch((err: Error) => {
        this.log.error({ err: err.message }, 'worker process could not be restarted');
        if (this.inARow >= this.policy.maxRestarts) {
          this.gaveUp = true;
          this.target.ended?.({ code: null, signal: null });
        } else this.schedule(Math.min(this.policy.initialMs * 2 ** this.inARow++, this.policy.maxMs));
      });
    }, delayMs);
  }

  /** Stops the process now and starts it again after `delayMs` (a watched file changed). */
  async restartAfter(delayMs: number): Promise<void> {
    await this.stop();
    this.stopping = false;
    this.inARow = 0;
    this.schedule(delayMs);
  }

  /** SIGTERM, then SIGKILL after the grace period; resolves once the process has exited. No restart follows. */
  stop(graceMs = this.policy.stopGraceMs): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    const child = this.child;
    if (child === undefined) return Promise.resolve();
    const gone = new Promise<void>((resolve) => this.exitWaiters.push(resolve));
    child.kill('SIGTERM');
    const kill = setTimeout(() => {
      if (this.child !== child) return;
      this.log.warn({ pid: child.pid, graceMs }, 'worker process ignored SIGTERM; sending SIGKILL');
      child.kill('SIGKILL');
    }, graceMs);
    return gone.finally(() => clearTimeout(kill));
  }
}
