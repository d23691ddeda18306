/**
 * A guest worker: any executable the node starts, supervises and stops, as Crossbar.io's
 * `_start_guest_worker` and `GuestWorkerClientProtocol` (crossbar/node/controller.py, guest.py):
 *
 * - executable: relative to the working directory if there, else looked up on PATH;
 *   the working directory is the node directory joined with `options.workdir`;
 * - environment: `options.env` (inherit, vars) as `create_process_env` builds it;
 * - stdin: an open pipe; `"close"` closes it at once; `{type: json, value, close}` writes the value
 *   as JSON first (and closes, unless `close: false`);
 * - stdout/stderr: `log` (default) logs each line with the worker id; `drop` reads and discards;
 *   `close` closes the node's end of the pipe, so the guest's writes fail (EPIPE), as Crossbar.io's
 *   `closeStdout()` does;
 * - `watch`: a change under the watched directories stops the guest and starts it again after
 *   `timeout` seconds;
 * - restart: xbar's `options.restart` (with back-off); by default, as in Crossbar.io, a guest that
 *   exited is not started again, and its end goes to the node's shutdown triggers (`onEnded`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { GuestWorkerConfig, StdioAction } from '../config/types-workers.js';
import { resolveExecutable } from './executable.js';
import { eachLine } from './output-lines.js';
import { processEnv } from './process-env.js';
import { Supervisor, type ExitInfo, type SupervisionPolicy } from './supervisor.js';
import { DirectoryWatch } from './watch.js';

export class GuestWorker {
  readonly supervisor: Supervisor;
  private readonly log: Logger;
  private watch: DirectoryWatch | undefined;
  private exe = '';
  /** Called when the guest exited for good (not on stop). */
  onEnded: ((exit: ExitInfo) => void) | undefined;

  constructor(readonly config: GuestWorkerConfig, log: Logger, policy?: SupervisionPolicy) {
    this.log = log.child({ worker: config.id, type: 'guest' });
    this.supervisor = new Supervisor(
      { spawn: () => this.spawn(), started: (child) => this.wire(child), ended: (exit) => this.onEnded?.(exit) },
      config.restart,
      this.log,
      policy,
    );
  }

  /** Starts the guest; rejects with a message naming the worker when it cannot be started. */
  async start(): Promise<void> {
    const c = this.config;
    if (!existsSync(c.workdir) || !statSync(c.workdir).isDirectory()) {
      throw new Error(`guest worker "${c.id}": working directory ${JSON.stringify(c.workdir)} does not exist`);
    }
    const env = processEnv(c.env);
    const exe = resolveExecutable(c.executable, c.workdir, env.PATH ?? process.env.PATH);
    if (exe === undefined) throw new Error(`guest worker "${c.id}": could not find an executable for ${JSON.stringify(c.executable)} (tried ${JSON.stringify(c.workdir)} and PATH)`);
    this.exe = exe;
    this.log.info({ executable: exe, arguments: c.arguments, workdir: c.workdir }, 'starting guest worker');
    try {
      await this.supervisor.start();
    } catch (e) {
      throw new Error(`guest worker "${c.id}": could not start ${exe}: ${(e as Error).message}`);
    }
    if (c.watch !== undefined && c.watch.directories.length > 0) {
      const delay = c.watch.delayMs;
      // Changes during the restart (an editor writing several files) make no second restart.
      this.watch = new DirectoryWatch(c.watch.directories, delay + 500, (file) => {
        this.log.info({ file, inMs: delay }, 'watched file changed: restarting guest worker');
        void this.supervisor.restartAfter(delay);
      }, this.log);
    }
  }

  private spawn(): ChildProcess {
    const c = this.config;
    return spawn(this.exe, [...c.arguments], {
      cwd: c.workdir,
      env: processEnv(c.env),
      stdio: ['pipe', 'pipe', 'pipe'],
      // argv[0] as Crossbar.io passes it: the resolved executable.
      argv0: this.exe,
    });
  }

  private wire(child: ChildProcess): void {
    const c = this.config;
    const stdin = child.stdin!;
    stdin.on('error', () => {
      // The guest closed its stdin or exited; nothing to deliver any more.
    });
    if (c.stdin !== undefined) {
      if ('json' in c.stdin) stdin.write(JSON.stringify(c.stdin.json));
      if (c.stdin.close) stdin.end();
    }
    this.output(child.stdout!, c.stdout, 'stdout', child.pid);
    this.output(child.stderr!, c.stderr, 'stderr', child.pid);
  }

  private output(stream: Readable, action: StdioAction, name: 'stdout' | 'stderr', pid: number | undefined): void {
    stream.on('error', () => {});
    if (action === 'close') stream.destroy();
    else if (action === 'drop') stream.resume();
    else eachLine(stream, (line) => this.log.info({ pid, stream: name }, line));
  }

  async stop(): Promise<void> {
    this.watch?.close();
    this.watch = undefined;
    await this.supervisor.stop();
  }
}
