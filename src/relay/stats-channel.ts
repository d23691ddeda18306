/**
 * The stats channel: a WebSocket on `<mount>/stats` that receives a JSON array of connection
 * reports on connect, every `stats_interval` ms, and on request (any message, e.g. practable's
 * `{"cmd":"update"}`, at most one extra report a second). Reports are built once per push and the
 * same text goes to every viewer; a viewer that does not read is skipped, not queued for.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import { CLOSE_GOING_AWAY, refuseUpgrade } from './errors.js';
import type { ConnectionReport } from './relay-connection.js';

/** Minimum time between two reports a viewer asks for. */
const MIN_ON_DEMAND_MS = 1000;
/** A viewer with this much unsent is skipped until it catches up. */
const MAX_VIEWER_BACKLOG = 4 * 1024 * 1024;

export interface StatsAccess {
  /** Resolves to an error sentence if the request may not see the stats, or undefined. */
  statsRefusal(req: IncomingMessage): Promise<{ status: number; message: string } | undefined>;
}

export class StatsChannel {
  private readonly viewers = new Map<WebSocket, { lastSent: number }>();
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 4096, clientTracking: false });
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly build: () => ConnectionReport[],
    private readonly interval: number,
    private readonly maxViewers: number,
  ) {}

  upgrade(access: StatsAccess, req: IncomingMessage, socket: Socket, head: Buffer): void {
    if (this.viewers.size >= this.maxViewers) return refuseUpgrade(socket, 503, `too many stats viewers (${this.maxViewers})`);
    access.statsRefusal(req).then(
      (refusal) => {
        if (refusal) return refuseUpgrade(socket, refusal.status, refusal.message);
        if (this.closed) return refuseUpgrade(socket, 503, 'relay shutting down');
        this.wss.handleUpgrade(req, socket, head, (ws) => this.add(ws));
      },
      () => refuseUpgrade(socket, 500, 'internal error'),
    );
  }

  private add(ws: WebSocket): void {
    const viewer = { lastSent: 0 };
    this.viewers.set(ws, viewer);
    ws.on('error', () => undefined);
    ws.on('close', () => {
      this.viewers.delete(ws);
      if (this.viewers.size === 0) this.stop();
    });
    ws.on('message', () => {
      if (Date.now() - viewer.lastSent >= MIN_ON_DEMAND_MS) this.send(ws, JSON.stringify(this.build()));
    });
    this.send(ws, JSON.stringify(this.build()));
    if (!this.timer) {
      this.timer = setInterval(() => this.push(), this.interval);
      this.timer.unref();
    }
  }

  private push(): void {
    const text = JSON.stringify(this.build());
    for (const ws of this.viewers.keys()) this.send(ws, text);
  }

  private send(ws: WebSocket, text: string): void {
    const viewer = this.viewers.get(ws);
    if (!viewer || ws.readyState !== ws.OPEN || ws.bufferedAmount > MAX_VIEWER_BACKLOG) return;
    viewer.lastSent = Date.now();
    ws.send(text);
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  close(): void {
    this.closed = true;
    this.stop();
    for (const ws of this.viewers.keys()) {
      ws.close(CLOSE_GOING_AWAY, 'relay shutting down');
      setTimeout(() => ws.terminate(), 1000).unref();
    }
    this.wss.close();
  }
}
