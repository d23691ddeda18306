/**
 * Crossbar.io's `flashpolicy` pseudo transport (`crossbar/webservice/flashpolicy.py`): a client
 * sends `<policy-file-request/>` and gets the socket policy file, then the connection is closed.
 * As there: at most 200 bytes of request, 5 s to send it, anything else is cut off.
 */
import type { Socket } from 'node:net';

const REQUEST = /^\s*<policy-file-request\s*\/>/;
const REQUEST_MAX_LENGTH = 200;
const REQUEST_TIMEOUT_MS = 5000;

/** The policy file exactly as Crossbar.io writes it (no trailing NUL). */
export function policyFile(allowedDomain: string, allowedPorts: string): string {
  return `<?xml version="1.0"?><cross-domain-policy><allow-access-from domain="${allowedDomain}" to-ports="${allowedPorts}" /></cross-domain-policy>`;
}

/** Serves one socket: the policy file for a request, nothing for anything else. */
export function flashPolicyAcceptor(allowedDomain: string, allowedPorts: string): (socket: Socket) => void {
  const answer = Buffer.from(policyFile(allowedDomain, allowedPorts), 'utf8');
  return (socket) => {
    let received = '';
    const timer = setTimeout(() => socket.destroy(), REQUEST_TIMEOUT_MS);
    timer.unref();
    socket.on('error', () => {});
    socket.on('close', () => clearTimeout(timer));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (REQUEST.test(received)) {
        clearTimeout(timer);
        socket.removeAllListeners('data');
        socket.end(answer);
      } else if (received.length > REQUEST_MAX_LENGTH) {
        socket.destroy();
      }
    });
  };
}
