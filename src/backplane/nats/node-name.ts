/**
 * One live node per name in a cluster. A node answers requests on its name's subject; joining, it
 * subscribes there first and then asks: the connection has `noEcho`, so only another live node
 * of the same name can answer, and "no responders" (503) means the name is free. Two nodes that
 * start at once with one name both hear each other and both refuse.
 */
import type { NatsConnection } from 'nats';
import type { NatsLink } from './link.js';

/** How long a live node of the same name has to answer (an answer is immediate; this bounds a lost one). */
const ANSWER_MS = 2000;

export class NodeNameTaken extends Error {}

export async function claimNodeName(link: NatsLink, nc: NatsConnection, cluster: string): Promise<void> {
  const subject = link.subjects.nodeName(link.nodeId);
  const pid = new TextEncoder().encode(String(process.pid));
  link.subscribe(nc, subject, (msg) => msg.respond(pid));
  await nc.flush();
  try {
    await nc.request(subject, new Uint8Array(0), { timeout: ANSWER_MS });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === '503') return; // no responders: nobody else has the name
    if (code !== 'TIMEOUT') throw err;
  }
  throw new NodeNameTaken(
    `another live node in cluster "${cluster}" on ${nc.getServer()} is named "${link.nodeId}": give each node its own name (cluster.nats.node or --node-name)`,
  );
}
