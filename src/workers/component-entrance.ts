/**
 * How a router worker's components reach the router. Crossbar.io runs them inside the router
 * process and attaches each session with a fixed realm, authrole (the component's `role`) and a
 * random authid, no authentication. xbar runs them in a Python child process, so each component
 * gets its own RawSocket listener on a Unix socket in a private directory (mode 0700, only the
 * node's user can connect), and whatever joins through that socket is that component: its
 * realm and role are assigned, whatever HELLO asked for, as Crossbar.io's trusted attach does.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RouterComponentConfig } from '../config/types-workers.js';
import type { Connection } from '../connection/connection.js';
import type { Authenticator, AuthenticatorFactory } from '../auth/authenticator.js';
import type { SessionOptions } from '../router/session.js';
import { acceptRawSocket } from '../transports/rawsocket.js';
import { serializerById } from '../serializers/index.js';

/** Attaches a connection to the router (`Router.attach`). */
export type AttachConnection = (conn: Connection, options: SessionOptions) => void;

const LIMITS = {
  maxMessageSize: 16 * 1024 * 1024,
  maxOutBuffer: 16 * 1024 * 1024,
  slowConsumer: 'disconnect',
  handshakeTimeout: 10_000,
} as const;

/** Whatever joins gets the component's realm and role, with a fresh authid (Crossbar.io: uuid4). */
function trusted(component: RouterComponentConfig): AuthenticatorFactory {
  const authenticator: Authenticator = {
    method: 'anonymous',
    begin: () => ({
      kind: 'welcome',
      identity: { authid: randomUUID(), authrole: component.role, authmethod: 'trusted', authprovider: 'internal', realm: component.realm },
    }),
  };
  return () => authenticator;
}

export class ComponentEntrance {
  private readonly servers: net.Server[] = [];
  private readonly sockets = new Map<string, string>();

  private constructor(private readonly dir: string) {}

  /** One listening Unix socket per component. */
  static async open(workerId: string, components: readonly RouterComponentConfig[], attach: AttachConnection): Promise<ComponentEntrance> {
    const entrance = new ComponentEntrance(mkdtempSync(join(tmpdir(), 'xbar-components-')));
    const json = serializerById('json')!;
    try {
      for (const [i, c] of components.entries()) {
        const path = join(entrance.dir, `${i}.sock`);
        const session: SessionOptions = { helloTimeout: LIMITS.handshakeTimeout, authenticators: new Map([['anonymous', trusted(c)]]) };
        const server = net.createServer((socket) => acceptRawSocket(socket, { ...LIMITS, serializers: [json] }, (conn) => attach(conn, session)));
        entrance.servers.push(server);
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(path, () => {
            server.off('error', reject);
            resolve();
          });
        });
        entrance.sockets.set(c.id, path);
      }
    } catch (e) {
      entrance.close();
      throw new Error(`worker "${workerId}": could not open the components' sockets: ${(e as Error).message}`);
    }
    return entrance;
  }

  /** The socket the component connects to. */
  path(componentId: string): string {
    const p = this.sockets.get(componentId);
    if (p === undefined) throw new Error(`no socket for component ${componentId}`);
    return p;
  }

  close(): void {
    for (const s of this.servers) s.close();
    this.servers.length = 0;
    rmSync(this.dir, { recursive: true, force: true });
  }
}
