/** Reads server frames with ws's own client-side Receiver: what a real client would get from them. */
import * as wsModule from 'ws';

// ws exports Receiver at runtime; @types/ws does not declare it.
const { Receiver } = wsModule as unknown as {
  Receiver: new (o: { isServer: boolean }) => NodeJS.WritableStream & { on(e: 'message', f: (d: Buffer, b: boolean) => void): void };
};

/** The messages (payload and whether binary) that unmasked server frames carry, in order. */
export function parseServerFrames(buffers: readonly Buffer[]): { data: Buffer; binary: boolean }[] {
  const out: { data: Buffer; binary: boolean }[] = [];
  const r = new Receiver({ isServer: false });
  r.on('message', (data: Buffer, binary: boolean) => out.push({ data: Buffer.from(data), binary }));
  for (const b of buffers) r.write(b);
  return out;
}
