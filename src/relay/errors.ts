/**
 * How the relay refuses: an HTTP status before the WebSocket upgrade (or for the access API), a
 * WebSocket close code after it. Every refusal carries a sentence the client can show.
 *
 * Close codes (RFC 6455 §7.4; 4000-4999 are private to the application):
 *   1001  the relay is shutting down, or the client stopped answering pings
 *   1002  WebSocket protocol error (ws)          1007  invalid UTF-8 in a text message (ws)
 *   1009  message larger than max_message_size
 *   4001  the token (or the code's token) expired while connected
 *   4003  the booking id of the token was deny-listed while connected
 */
import type { Socket } from 'node:net';
import { STATUS_CODES } from 'node:http';
import { CloseCode } from '../connection/close-codes.js';

export const CLOSE_GOING_AWAY = CloseCode.goingAway;
export const CLOSE_PROTOCOL_ERROR = CloseCode.protocolError;
export const CLOSE_INVALID_DATA = CloseCode.invalidData;
export const CLOSE_TOO_BIG = CloseCode.tooBig;
/** The relay's own codes (4000–4999 are the application's). */
export const CLOSE_TOKEN_EXPIRED = 4001;
export const CLOSE_DENIED = 4003;

/** A refused request: HTTP status and a human-readable reason. */
export class RelayRefusal extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'RelayRefusal';
  }
}

/** Ends an upgrade request with an HTTP error (the WebSocket handshake never completes). */
export function refuseUpgrade(socket: Socket, status: number, message: string, headers: Record<string, string> = {}): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = `${message}\n`;
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`,
  );
}

/** WebSocket close reasons are limited to 123 bytes. */
export function closeReason(reason: string): string {
  return Buffer.byteLength(reason) <= 123 ? reason : Buffer.from(reason).subarray(0, 120).toString() + '…';
}
