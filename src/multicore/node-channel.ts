/**
 * The channel between the primary of `xbar start --workers N` and its workers: node:cluster's IPC
 * channel (JSON messages, every one tagged `xbar`), there with or without the in-node hub. Over it
 *
 * - the primary tells every worker the state of each worker slot whenever one changes (so
 *   /health answers at once, from what the worker already knows);
 * - a worker gathers what every other live worker answers to a kind of question (statistics,
 *   metrics, history) through the primary, which asks them and answers with what came back in
 *   time — a hung worker delays an answer by GATHER_MS at most;
 * - the primary pings each worker that is up and a worker answers as its event loop reads it,
 *   so a worker that stops answering (a blocked event loop) is seen as hung.
 */
import type { Worker } from 'node:cluster';

/** A worker slot as the primary sees it. */
export type WorkerState = 'starting' | 'up' | 'restarting' | 'unresponsive';

export interface WorkerStatus {
  /** 0 … N-1; a restarted worker keeps its slot's index. */
  readonly index: number;
  /** The slot's current process; null while it is being restarted. */
  readonly pid: number | null;
  readonly state: WorkerState;
  /** Times this slot's worker was restarted since the node started. */
  readonly restarts: number;
}

export interface WorkerAnswer {
  readonly index: number;
  readonly value: unknown;
}

export interface Gathered {
  /** What each worker answered in time, by slot index order. */
  readonly answers: readonly WorkerAnswer[];
  /** Every slot's state as the primary saw it when it answered. */
  readonly workers: readonly WorkerStatus[];
}

export type ToPrimary =
  | { readonly xbar: 'ready' }
  | { readonly xbar: 'gather'; readonly id: number; readonly kind: string }
  | { readonly xbar: 'answer'; readonly id: number; readonly value: unknown }
  | { readonly xbar: 'pong'; readonly seq: number };

export type ToWorker =
  | { readonly xbar: 'workers'; readonly workers: readonly WorkerStatus[] }
  | { readonly xbar: 'ask'; readonly id: number; readonly kind: string }
  | ({ readonly xbar: 'gathered'; readonly id: number } & Gathered)
  | { readonly xbar: 'ping'; readonly seq: number };

/** How long the primary waits for the workers' answers to a gather, ms. */
export const GATHER_MS = 1000;

/** What a worker's node reads and answers of the node's other workers (src/node.ts). */
export interface NodeWorkers {
  /** This worker's slot. */
  readonly index: number;
  /** Every slot's state, as the primary last told. */
  statuses(): readonly WorkerStatus[];
  /** Every other live worker's answer to `kind` (this worker answers its own). */
  gather(kind: string): Promise<Gathered>;
  /** How this worker answers `kind`; a kind nobody serves is answered null. */
  serve(kind: string, answer: () => unknown): void;
}

interface Port {
  send?(message: unknown): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
}

function isToWorker(m: unknown): m is ToWorker {
  return typeof m === 'object' && m !== null && typeof (m as { xbar?: unknown }).xbar === 'string';
}

/** A worker's end of the channel. */
export class WorkerChannel implements NodeWorkers {
  private known: readonly WorkerStatus[] = [];
  private readonly served = new Map<string, () => unknown>();
  private readonly waiting = new Map<number, (g: Gathered) => void>();
  private seq = 0;

  constructor(readonly index: number, private readonly port: Port = process) {
    port.on('message', (m) => {
      if (isToWorker(m)) this.received(m);
    });
  }

  /** Tells the primary this worker serves (its listeners are up). */
  ready(): void {
    this.send({ xbar: 'ready' });
  }

  statuses(): readonly WorkerStatus[] {
    return this.known;
  }

  serve(kind: string, answer: () => unknown): void {
    this.served.set(kind, answer);
  }

  gather(kind: string): Promise<Gathered> {
    const id = ++this.seq;
    return new Promise((resolve) => {
      const alone = () => {
        this.waiting.delete(id);
        resolve({ answers: [], workers: this.known });
      };
      // The primary answers within GATHER_MS; if it cannot (it is gone), this worker answers alone.
      const timer = setTimeout(alone, GATHER_MS + 1000);
      this.waiting.set(id, (g) => {
        clearTimeout(timer);
        resolve(g);
      });
      if (!this.send({ xbar: 'gather', id, kind })) {
        clearTimeout(timer);
        alone();
      }
    });
  }

  private received(m: ToWorker): void {
    switch (m.xbar) {
      case 'ping':
        return void this.send({ xbar: 'pong', seq: m.seq });
      case 'workers':
        this.known = m.workers;
        return;
      case 'gathered': {
        const resolve = this.waiting.get(m.id);
        this.waiting.delete(m.id);
        this.known = m.workers;
        return resolve?.({ answers: m.answers, workers: m.workers });
      }
      case 'ask':
        return void this.answer(m.id, m.kind);
    }
  }

  private async answer(id: number, kind: string): Promise<void> {
    let value: unknown = null;
    try {
      value = (await this.served.get(kind)?.()) ?? null;
    } catch {
      value = null;
    }
    this.send({ xbar: 'answer', id, value });
  }

  private send(m: ToPrimary): boolean {
    if (!this.port.send) return false;
    try {
      return this.port.send(m);
    } catch {
      // The channel closed (the primary is gone): the hub link's loss stops this worker.
      return false;
    }
  }
}

/** Sends `m` to a worker unless its channel is closed. */
export function sendToWorker(w: Worker, m: ToWorker): void {
  if (!w.isConnected()) return;
  try {
    w.send(m);
  } catch {
    // It is exiting: its 'exit' follows.
  }
}

export function isToPrimary(m: unknown): m is ToPrimary {
  return typeof m === 'object' && m !== null && typeof (m as { xbar?: unknown }).xbar === 'string';
}
