/**
 * The PROXY protocol codec (haproxy.org doc/proxy-protocol.txt): v1 and v2 headers decode to the
 * client's address, byte by byte as they may arrive; LOCAL and UNKNOWN keep the connection's own;
 * anything else is refused with the reason — and generated garbage and mutated headers never
 * make it throw or read past what it was given.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeProxyHeader, encodeProxyV1, encodeProxyV2, V1_MAX_LENGTH, V2_MAX_LENGTH, V2_SIGNATURE,
} from '../../../src/network/proxy-protocol.js';
import { prng } from '../../helpers/prng.js';

const APP = Buffer.from('GET /ws HTTP/1.1\r\n');

/** Feeds `bytes` one at a time, as a slow network would: incomplete until the last header byte. */
function decodeByteByByte(bytes: Buffer) {
  for (let n = 1; n < bytes.length; n++) {
    const v = decodeProxyHeader(bytes.subarray(0, n));
    if (v.kind !== 'incomplete') return { at: n, v };
  }
  return { at: bytes.length, v: decodeProxyHeader(bytes) };
}

describe('PROXY protocol v1', () => {
  it('decodes TCP4 and TCP6 headers, and says where the application bytes start', () => {
    const h = Buffer.from('PROXY TCP4 192.0.2.7 10.0.0.1 56324 443\r\n');
    assert.deepEqual(decodeProxyHeader(Buffer.concat([h, APP])), {
      kind: 'header', version: 1, length: h.length,
      source: { address: '192.0.2.7', port: 56324 }, destination: { address: '10.0.0.1', port: 443 },
    });
    const h6 = Buffer.from('PROXY TCP6 2001:0db8:0:0::1 ::1 65535 0\r\n');
    const v = decodeProxyHeader(h6);
    assert.ok(v.kind === 'header');
    assert.deepEqual([v.source, v.destination, v.length], [{ address: '2001:db8::1', port: 65535 }, { address: '::1', port: 0 }, h6.length], 'in Node\'s text form');
  });

  it('waits for the whole line, byte by byte', () => {
    const h = Buffer.from('PROXY TCP4 192.0.2.7 10.0.0.1 56324 443\r\n');
    const { at, v } = decodeByteByByte(Buffer.concat([h, APP]));
    assert.equal(at, h.length);
    assert.equal(v.kind, 'header');
  });

  it('keeps the connection\'s own address for UNKNOWN', () => {
    assert.deepEqual(decodeProxyHeader(Buffer.from('PROXY UNKNOWN\r\n')), { kind: 'header', version: 1, length: 15 });
    assert.deepEqual(decodeProxyHeader(Buffer.from('PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n')), { kind: 'header', version: 1, length: 35 });
  });

  it('refuses malformed lines with the reason', () => {
    const reason = (text: string) => {
      const v = decodeProxyHeader(Buffer.from(text));
      return v.kind === 'invalid' ? `${v.reason}: ${v.message}` : v.kind;
    };
    assert.match(reason('PROXY TCP4 192.0.2.7 10.0.0.1 56324\r\n'), /^invalid: .*expected "PROXY TCP4\|TCP6/);
    assert.match(reason('PROXY UDP4 192.0.2.7 10.0.0.1 1 2\r\n'), /^invalid: PROXY v1 protocol "UDP4"/);
    assert.match(reason('PROXY TCP4 2001:db8::1 10.0.0.1 1 2\r\n'), /^invalid: .*are not TCP4 addresses/);
    assert.match(reason('PROXY TCP6 192.0.2.7 ::1 1 2\r\n'), /^invalid: .*are not TCP6 addresses/);
    assert.match(reason('PROXY TCP4 192.0.2.7 10.0.0.1 65536 2\r\n'), /^invalid: PROXY v1 ports/);
    assert.match(reason('PROXY TCP4 192.0.2.7 10.0.0.1 0080 2\r\n'), /^invalid: PROXY v1 ports/);
    assert.match(reason('PROXY TCP4 192.0.2.7 10.0.0.1 -1 2\r\n'), /^invalid: PROXY v1 ports/);
    assert.match(reason('PROXY TCP4  192.0.2.7 10.0.0.1 1 2\r\n'), /^invalid: /);
    assert.match(reason(`PROXY TCP4 ${'1'.repeat(V1_MAX_LENGTH)}`), /^invalid: PROXY v1 header without CRLF in its first 107 bytes/);
    assert.match(reason(`PROXY UNKNOWN ${'x'.repeat(100)}\r\n`), /^invalid: PROXY v1 header longer than 107 bytes/);
    assert.match(reason('GET / HTTP/1.1\r\n\r\n'), /^missing: the connection did not start with a PROXY protocol header/);
    assert.match(reason('\x16\x03\x01'), /^missing: /, 'a TLS ClientHello');
    assert.equal(reason('PROX'), 'incomplete');
  });
});

describe('PROXY protocol v2', () => {
  it('decodes PROXY over TCP/IPv4 and TCP/IPv6, skipping TLVs', () => {
    const tlv = Buffer.from([0x01, 0x00, 0x02, 0x68, 0x32]); // PP2_TYPE_ALPN "h2"
    const h = encodeProxyV2({ address: '192.0.2.7', port: 56324 }, { address: '10.0.0.1', port: 443 }, tlv);
    assert.equal(h.length, 16 + 12 + 5);
    assert.deepEqual(decodeProxyHeader(Buffer.concat([h, APP])), {
      kind: 'header', version: 2, length: h.length,
      source: { address: '192.0.2.7', port: 56324 }, destination: { address: '10.0.0.1', port: 443 },
    });
    const h6 = encodeProxyV2({ address: '2001:db8:0:0:1::ff', port: 1 }, { address: '::ffff:10.0.0.1', port: 2 });
    const v = decodeProxyHeader(h6);
    assert.ok(v.kind === 'header');
    assert.deepEqual([v.source, v.destination], [{ address: '2001:db8::1:0:0:ff', port: 1 }, { address: '::ffff:10.0.0.1', port: 2 }]);
  });

  it('waits for the whole header, byte by byte, however long its TLVs', () => {
    const h = encodeProxyV2({ address: '192.0.2.7', port: 1 }, { address: '10.0.0.1', port: 2 }, Buffer.alloc(300, 0x20));
    const { at, v } = decodeByteByByte(Buffer.concat([h, APP]));
    assert.equal(at, h.length);
    assert.equal(v.kind, 'header');
  });

  it('keeps the connection\'s own address for LOCAL (health checks), UNSPEC, UNIX and DGRAM', () => {
    assert.deepEqual(decodeProxyHeader(encodeProxyV2()), { kind: 'header', version: 2, length: 16 });
    const unspec = Buffer.from(encodeProxyV2({ address: '192.0.2.7', port: 1 }, { address: '10.0.0.1', port: 2 }));
    unspec[13] = 0x01; // AF_UNSPEC, STREAM
    assert.deepEqual(decodeProxyHeader(unspec), { kind: 'header', version: 2, length: unspec.length });
    const dgram = Buffer.from(encodeProxyV2({ address: '192.0.2.7', port: 1 }, { address: '10.0.0.1', port: 2 }));
    dgram[13] = 0x12; // AF_INET, DGRAM
    assert.deepEqual(decodeProxyHeader(dgram), { kind: 'header', version: 2, length: dgram.length });
  });

  it('refuses a wrong version, command, family, short addresses and oversize headers', () => {
    const base = () => Buffer.from(encodeProxyV2({ address: '192.0.2.7', port: 1 }, { address: '10.0.0.1', port: 2 }));
    const reason = (b: Buffer) => {
      const v = decodeProxyHeader(b);
      return v.kind === 'invalid' ? `${v.reason}: ${v.message}` : v.kind;
    };
    const v1 = base();
    v1[12] = 0x11;
    assert.match(reason(v1), /^invalid: PROXY v2 header with version 1/);
    const cmd = base();
    cmd[12] = 0x22;
    assert.match(reason(cmd), /^invalid: PROXY v2 header with command 2/);
    const fam = base();
    fam[13] = 0x41;
    assert.match(reason(fam), /^invalid: .*address family 4/);
    const short = base();
    short.writeUInt16BE(8, 14);
    assert.match(reason(short.subarray(0, 24)), /^invalid: PROXY v2 header: 8 bytes of addresses, IPv4 needs 12/);
    const big = base();
    big.writeUInt16BE(V2_MAX_LENGTH, 14);
    assert.match(reason(big), /^too_large: PROXY v2 header of 4112 bytes: at most 4096/);
    assert.equal(reason(V2_SIGNATURE.subarray(0, 7)), 'incomplete');
    const bad = Buffer.from(V2_SIGNATURE);
    bad[11] = 0x0b;
    assert.match(reason(bad), /^missing: /);
  });
});

describe('PROXY protocol codec under generated input', () => {
  it('round-trips random addresses and ports through v1 and v2', () => {
    const rnd = prng(14);
    const int = (n: number) => Math.floor(rnd() * n);
    for (let i = 0; i < 2000; i++) {
      const v6 = rnd() < 0.5;
      const addr = () => (v6
        ? Array.from({ length: 8 }, () => int(0x10000).toString(16)).join(':')
        : Array.from({ length: 4 }, () => int(256)).join('.'));
      const src = { address: addr(), port: int(65536) };
      const dst = { address: addr(), port: int(65536) };
      for (const h of [encodeProxyV1(src, dst), encodeProxyV2(src, dst)]) {
        const v = decodeProxyHeader(Buffer.concat([h, APP]));
        assert.ok(v.kind === 'header', JSON.stringify(v));
        assert.equal(v.length, h.length);
        const norm = (a: string) => (v6 ? new URL(`http://[${a}]/`).hostname.slice(1, -1) : a);
        assert.deepEqual(v.source, { address: norm(src.address), port: src.port });
        assert.deepEqual(v.destination, { address: norm(dst.address), port: dst.port });
      }
    }
  });

  it('never throws, and never claims more header than it was given, on garbage and mutated headers', () => {
    const rnd = prng(99);
    const int = (n: number) => Math.floor(rnd() * n);
    const seeds = [
      encodeProxyV1({ address: '192.0.2.7', port: 1 }, { address: '10.0.0.1', port: 2 }),
      encodeProxyV1({ address: '2001:db8::1', port: 1 }, { address: '::1', port: 2 }),
      encodeProxyV2({ address: '192.0.2.7', port: 1 }, { address: '10.0.0.1', port: 2 }, Buffer.alloc(20)),
      encodeProxyV2({ address: '2001:db8::1', port: 1 }, { address: '::1', port: 2 }),
      encodeProxyV2(),
    ];
    let headers = 0;
    for (let i = 0; i < 50_000; i++) {
      let b: Buffer;
      if (i % 4 === 0) {
        b = Buffer.from(Array.from({ length: int(120) }, () => int(256)));
      } else {
        b = Buffer.from(seeds[int(seeds.length)]!);
        for (let m = int(4); m >= 0; m--) b[int(b.length)] = int(256);
        if (rnd() < 0.3) b = b.subarray(0, int(b.length + 1));
      }
      const v = decodeProxyHeader(b);
      if (v.kind === 'header') {
        headers++;
        assert.ok(v.length <= b.length && v.length >= 15, `length ${v.length} of ${b.length}`);
        for (const a of [v.source, v.destination]) {
          if (a) assert.ok(a.port >= 0 && a.port <= 65535 && a.address.length > 0);
        }
      } else if (v.kind === 'invalid') {
        assert.ok(v.message.length > 0);
      }
    }
    assert.ok(headers > 1000, `${headers} mutated headers still decoded`);
  });
});
