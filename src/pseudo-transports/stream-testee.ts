/**
 * Crossbar.io's `stream.testee` pseudo transport (`StreamTesteeServerProtocol`): every byte a
 * client sends is written back. `pipe` pauses reading while the client does not read its echo,
 * so a client that only writes holds one socket buffer, not an unbounded queue.
 */
import type { Socket } from 'node:net';

export function streamTesteeAcceptor(): (socket: Socket) => void {
  return (socket) => {
    socket.on('error', () => socket.destroy());
    socket.pipe(socket);
  };
}
