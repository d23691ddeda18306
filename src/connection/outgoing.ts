/**
 * A message to send, encoded once, with a cache of its framing per wire kind: the same message
 * sent to many connections is framed once per kind (WebSocket, RawSocket, …) and the same buffers
 * are written to every socket of that kind. The router makes these and never names a kind.
 */

/** How one kind of wire frames a message; a transport defines one and every Outgoing caches its framing. */
export interface WireKind {
  readonly name: string;
  /** The buffers to write for a message, in order (pure: the same for every socket). */
  frame(bytes: Uint8Array, binary: boolean): readonly Buffer[];
}

export class Outgoing {
  /** The first kind that framed this message, and its frames: most messages meet one kind only. */
  private kind: WireKind | undefined = undefined;
  private frames: readonly Buffer[] = [];
  /** Framings for further kinds (a message sent over more than one kind of transport). */
  private more: Map<WireKind, readonly Buffer[]> | undefined = undefined;

  constructor(readonly bytes: Uint8Array, readonly binary: boolean) {}

  /** This message framed for `kind`, framed on the first call for that kind. */
  framed(kind: WireKind): readonly Buffer[] {
    if (this.kind === kind) return this.frames;
    if (this.kind === undefined) {
      this.kind = kind;
      return (this.frames = kind.frame(this.bytes, this.binary));
    }
    const more = (this.more ??= new Map());
    let frames = more.get(kind);
    if (frames === undefined) more.set(kind, (frames = kind.frame(this.bytes, this.binary)));
    return frames;
  }
}
