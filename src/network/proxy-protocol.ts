/**
 * The PROXY protocol header (HAProxy's `send-proxy` and `send-proxy-v2`; spec: haproxy.org
 * doc/proxy-protocol.txt), pure: bytes in, a verdict out; nothing touches a socket. A load balancer
 * in TCP mode sends it first on each connection, so the server learns the client's address.
 *
 *   v1: "PROXY TCP4|TCP6 <src> <dst> <sport> <dport>\r\n" or "PROXY UNKNOWN …\r\n", at most 107 bytes
 *   v2: 12-byte signature, version|command, family|transport, 16-bit length, addresses, TLVs
 *
 * `decodeProxyHeader` is called with everything received so far and answers `incomplete` until it
 * can decide. LOCAL (v2, HAProxy's health checks), UNKNOWN (v1) and families other than TCP over
 * IPv4/IPv6 carry no client: the connection's own address stands. TLVs are skipped.
 *
 * (proxy-protocol-js, the npm parser, was not used: it parses a complete buffer only, finds no
 * header boundary — v2 ignores the length field and hands back the rest as "data", v1 needs the
 * caller to split at CRLF — and its v2 builder writes a length without the TLVs.)
 */
import net from 'node:net';

export interface ProxyAddress {
  readonly address: string;
  readonly port: number;
}

export type ProxyVerdict =
  /** Not enough bytes to decide. */
  | { readonly kind: 'incomplete' }
  /** `missing`: the connection did not start with a PROXY header; `too_large`: a v2 header over the limit. */
  | { readonly kind: 'invalid'; readonly reason: 'missing' | 'invalid' | 'too_large'; readonly message: string }
  | {
      readonly kind: 'header';
      readonly version: 1 | 2;
      /** Bytes of the header; the application's bytes start here. */
      readonly length: number;
      /** The client and the address it connected to; undefined = keep the connection's own (LOCAL, UNKNOWN). */
      readonly source?: ProxyAddress;
      readonly destination?: ProxyAddress;
    };

const V1_PREFIX = Buffer.from('PROXY ');
/** The spec's limit: "PROXY TCP6 " + two full IPv6 addresses + two ports + spaces + CRLF. */
export const V1_MAX_LENGTH = 107;
export const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
/**
 * Largest v2 header accepted (16 + addresses + TLVs): HAProxy's TLVs (ALPN, authority, SSL
 * details, unique id) take a few hundred bytes; the 16-bit length would allow 64 KiB per pending
 * connection.
 */
export const V2_MAX_LENGTH = 4096;

const invalid = (message: string, reason: 'missing' | 'invalid' | 'too_large' = 'invalid'): ProxyVerdict => ({ kind: 'invalid', reason, message });

/** The header at the start of `buf` (all bytes received so far). */
export function decodeProxyHeader(buf: Uint8Array): ProxyVerdict {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (startsLike(b, V2_SIGNATURE)) return b.length < V2_SIGNATURE.length ? { kind: 'incomplete' } : decodeV2(b);
  if (startsLike(b, V1_PREFIX)) return b.length < V1_PREFIX.length ? { kind: 'incomplete' } : decodeV1(b);
  return invalid('the connection did not start with a PROXY protocol header', 'missing');
}

/** `b` is a prefix of `sig` or starts with it. */
function startsLike(b: Buffer, sig: Buffer): boolean {
  const n = Math.min(b.length, sig.length);
  return n > 0 && b.compare(sig, 0, n, 0, n) === 0;
}

function decodeV1(b: Buffer): ProxyVerdict {
  const end = b.indexOf('\r\n');
  if (end < 0) return b.length >= V1_MAX_LENGTH ? invalid(`PROXY v1 header without CRLF in its first ${V1_MAX_LENGTH} bytes`) : { kind: 'incomplete' };
  if (end + 2 > V1_MAX_LENGTH) return invalid(`PROXY v1 header longer than ${V1_MAX_LENGTH} bytes`);
  const line = b.toString('latin1', 0, end);
  const parts = line.split(' ');
  const length = end + 2;
  if (parts[1] === 'UNKNOWN') return { kind: 'header', version: 1, length };
  if (parts.length !== 6) return invalid(`PROXY v1 header ${JSON.stringify(line)}: expected "PROXY TCP4|TCP6 <src> <dst> <sport> <dport>"`);
  const [, proto, src, dst, sport, dport] = parts as [string, string, string, string, string, string];
  const family = proto === 'TCP4' ? 4 : proto === 'TCP6' ? 6 : 0;
  if (family === 0) return invalid(`PROXY v1 protocol ${JSON.stringify(proto)}: expected TCP4, TCP6 or UNKNOWN`);
  const isFamily = family === 4 ? net.isIPv4 : net.isIPv6;
  if (!isFamily(src) || !isFamily(dst)) return invalid(`PROXY v1 addresses ${JSON.stringify(src)} ${JSON.stringify(dst)} are not ${proto} addresses`);
  const sp = port(sport);
  const dp = port(dport);
  if (sp === undefined || dp === undefined) return invalid(`PROXY v1 ports ${JSON.stringify(sport)} ${JSON.stringify(dport)}: expected 0-65535`);
  const text = family === 4 ? (a: string) => a : (a: string) => new net.SocketAddress({ address: a, family: 'ipv6' }).address;
  return { kind: 'header', version: 1, length, source: { address: text(src), port: sp }, destination: { address: text(dst), port: dp } };
}

function port(text: string): number | undefined {
  if (!/^(0|[1-9]\d{0,4})$/.test(text)) return undefined;
  const n = Number(text);
  return n <= 65535 ? n : undefined;
}

function decodeV2(b: Buffer): ProxyVerdict {
  if (b.length < 16) return { kind: 'incomplete' };
  const versionCommand = b[12]!;
  if (versionCommand >> 4 !== 2) return invalid(`PROXY v2 header with version ${versionCommand >> 4}`);
  const command = versionCommand & 0x0f;
  if (command > 1) return invalid(`PROXY v2 header with command ${command}: expected LOCAL (0) or PROXY (1)`);
  const familyTransport = b[13]!;
  const family = familyTransport >> 4;
  const transport = familyTransport & 0x0f;
  if (family > 3 || transport > 2) return invalid(`PROXY v2 header with address family ${family}, transport ${transport}`);
  const length = 16 + b.readUInt16BE(14);
  if (length > V2_MAX_LENGTH) return invalid(`PROXY v2 header of ${length} bytes: at most ${V2_MAX_LENGTH} are accepted`, 'too_large');
  if (b.length < length) return { kind: 'incomplete' };
  // LOCAL: the proxy's own connection (health checks); UNSPEC, UNIX, DGRAM: no TCP client to report.
  if (command === 0 || family === 0 || family === 3 || transport !== 1) return { kind: 'header', version: 2, length };
  const need = family === 1 ? 12 : 36;
  if (length - 16 < need) return invalid(`PROXY v2 header: ${length - 16} bytes of addresses, ${family === 1 ? 'IPv4' : 'IPv6'} needs ${need}`);
  if (family === 1) {
    return {
      kind: 'header', version: 2, length,
      source: { address: ipv4(b, 16), port: b.readUInt16BE(24) },
      destination: { address: ipv4(b, 20), port: b.readUInt16BE(26) },
    };
  }
  return {
    kind: 'header', version: 2, length,
    source: { address: ipv6(b, 16), port: b.readUInt16BE(48) },
    destination: { address: ipv6(b, 32), port: b.readUInt16BE(50) },
  };
}

function ipv4(b: Buffer, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

/** The 16 bytes at `at` in Node's own text form ("2001:db8::1", "::ffff:10.0.0.1"). */
function ipv6(b: Buffer, at: number): string {
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) groups.push(b.readUInt16BE(at + 2 * i).toString(16));
  return new net.SocketAddress({ address: groups.join(':'), family: 'ipv6' }).address;
}

// ---- encoders (tests, benchmarks, a proxy written in Node) ----------------------------------------

/** "PROXY TCP4|TCP6 …\r\n" for `source` → `destination`. */
export function encodeProxyV1(source: ProxyAddress, destination: ProxyAddress): Buffer {
  const proto = net.isIPv6(source.address) ? 'TCP6' : 'TCP4';
  return Buffer.from(`PROXY ${proto} ${source.address} ${destination.address} ${source.port} ${destination.port}\r\n`, 'latin1');
}

/** A v2 PROXY (or, without addresses, LOCAL) header over TCP, with `tlvs` appended as they are. */
export function encodeProxyV2(source?: ProxyAddress, destination?: ProxyAddress, tlvs: Uint8Array = new Uint8Array(0)): Buffer {
  if (source === undefined || destination === undefined) {
    const h = Buffer.alloc(16 + tlvs.length);
    V2_SIGNATURE.copy(h, 0);
    h[12] = 0x20;
    h[13] = 0x00;
    h.writeUInt16BE(tlvs.length, 14);
    h.set(tlvs, 16);
    return h;
  }
  const v6 = net.isIPv6(source.address);
  const addrLen = v6 ? 36 : 12;
  const h = Buffer.alloc(16 + addrLen + tlvs.length);
  V2_SIGNATURE.copy(h, 0);
  h[12] = 0x21;
  h[13] = v6 ? 0x21 : 0x11;
  h.writeUInt16BE(addrLen + tlvs.length, 14);
  const size = v6 ? 16 : 4;
  writeAddress(h, 16, source.address, v6);
  writeAddress(h, 16 + size, destination.address, v6);
  h.writeUInt16BE(source.port, 16 + 2 * size);
  h.writeUInt16BE(destination.port, 18 + 2 * size);
  h.set(tlvs, 16 + addrLen);
  return h;
}

function writeAddress(h: Buffer, at: number, address: string, v6: boolean): void {
  if (!v6) {
    address.split('.').forEach((x, i) => (h[at + i] = Number(x)));
    return;
  }
  const [head = '', tail] = address.split('::') as [string, string | undefined];
  const left = head === '' ? [] : head.split(':');
  const right = (tail === undefined || tail === '' ? [] : tail.split(':')).flatMap((g) => {
    if (!g.includes('.')) return [g];
    const [a, b, c, d] = g.split('.').map(Number) as [number, number, number, number]; // "::ffff:10.0.0.1"
    return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
  });
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  groups.forEach((g, i) => h.writeUInt16BE(parseInt(g, 16), at + 2 * i));
}
