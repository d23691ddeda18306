/**
 * A hostile RawSocket peer as a child process (not a test file itself), so the router's process
 * holds only the router: `node ping-flooder.js PORT joined|unjoined MAX_BYTES` completes the
 * RawSocket handshake (and HELLO → WELCOME when `joined`), then stops reading and writes 64 KiB
 * PINGs until the router closes the connection or MAX_BYTES are written. It prints one JSON line:
 * `{closed, pingBytes}`.
 */
import net from 'node:net';

const [portArg, mode, maxArg] = process.argv.slice(2);
const maxBytes = Number(maxArg);
const PING = Buffer.concat([Buffer.from([1, 0x01, 0x00, 0x00]), Buffer.alloc(64 * 1024, 0x70)]);

function frame(json: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(json));
  const h = Buffer.alloc(4);
  h.writeUInt32BE(body.length);
  return Buffer.concat([h, body]);
}

const socket = net.connect(Number(portArg), '127.0.0.1');
let pingBytes = 0;
let closed = false;
let received = Buffer.alloc(0);
const report = () => {
  process.stdout.write(`${JSON.stringify({ closed, pingBytes })}\n`);
  process.exit(0);
};
socket.on('error', () => undefined);
socket.on('close', () => {
  closed = true;
  report();
});

function flood(): void {
  socket.pause();
  const write = (): void => {
    while (pingBytes < maxBytes) {
      pingBytes += PING.length;
      if (!socket.write(PING)) return void socket.once('drain', write);
    }
    // Everything written and still open: wait a little for a close that may be on its way.
    setTimeout(report, 5000);
  };
  write();
}

socket.write(Buffer.from([0x7f, 0xf1, 0, 0]));
socket.on('data', (chunk: Buffer) => {
  received = Buffer.concat([received, chunk]);
  if (received.length < 4) return;
  if (mode !== 'joined') return flood();
  if (received.length === 4) {
    socket.write(frame([1, 'realm1', { roles: { subscriber: {} } }]));
    return;
  }
  // WELCOME arrived (the frame after the handshake reply): stop reading, flood.
  if (received.length >= 8) flood();
});
