/**
 * The first-bytes switch of a `universal` transport, as Crossbar.io's UniSocketServerProtocol
 * (crossbar/router/unisocket.py): 0x7F (RawSocket's magic octet) → RawSocket, 0x10 (an MQTT
 * CONNECT) → MQTT, anything else → HTTP (WebSocket upgrades and the Web site). A protocol the
 * transport does not serve, or a client that sends nothing in time, is disconnected. The bytes
 * read to decide are put back, so the protocol chosen reads the connection from its first octet.
 */
import type net from 'node:net';

export interface UniversalRoutes {
  readonly rawsocket?: (socket: net.Socket) => void;
  readonly mqtt?: (socket: net.Socket) => void;
  readonly http?: (socket: net.Socket) => void;
}

const RAWSOCKET_MAGIC = 0x7f;
const MQTT_CONNECT = 0x10;

/** Which route the first octet asks for. */
export function routeOf(first: number): keyof UniversalRoutes {
  return first === RAWSOCKET_MAGIC ? 'rawsocket' : first === MQTT_CONNECT ? 'mqtt' : 'http';
}

export function acceptUniversal(socket: net.Socket, routes: UniversalRoutes, timeoutMs: number): void {
  socket.on('error', () => socket.destroy());
  const timer = setTimeout(() => {
    socket.off('data', onData);
    socket.destroy();
  }, timeoutMs);
  timer.unref();
  const onData = (chunk: Buffer): void => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.pause();
    const route = routes[routeOf(chunk[0]!)];
    if (route === undefined) return void socket.destroy();
    socket.unshift(chunk);
    route(socket);
    // RawSocket, MQTT and HTTP read with 'data' listeners, which do not resume a paused socket.
    if (socket.listenerCount('data') > 0) socket.resume();
  };
  socket.on('data', onData);
  socket.once('close', () => clearTimeout(timer));
}
