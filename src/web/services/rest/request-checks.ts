/**
 * What Crossbar.io's `_CommonResource._render_request` checks of an HTTP bridge request before
 * anything reaches the router, in its order: content type (JSON services), charset, body length
 * (`post_body_limit`), GitHub signature (webhook), the signature fields (`key`, `timestamp`, `seq`,
 * `nonce`, `signature`) and their HMAC, `require_ip`, `require_tls`, UTF-8, then JSON and its shape.
 * The first failure is the answer.
 *
 * xbar differs: the body is read only up to its limit (a larger one is refused from its
 * Content-Length, or as soon as it has grown past the limit, and the connection is closed), and a
 * body has a limit without `post_body_limit` too (`MAX_BODY`); a repeated signature is refused
 * (see `signature.ts`); conflicting Content-Length headers never get here (Node's HTTP parser
 * answers 400 itself).
 */
import { createHmac } from 'node:crypto';
import type http from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { BridgeRequestChecks } from '../../../config/types-web.js';
import { bridgeNetworkList } from '../../../network/bridge-networks.js';
import { clientAddress } from '../../../network/client-address.js';
import type { NetworkList } from '../../../network/networks.js';
import { queryArgs } from '../http-util.js';
import { DENIALS, Denial } from './answers.js';
import { ReplayGuard, bridgeSignature, isPythonInt, parseBridgeTimestamp, sameSignature } from './signature.js';

/** The largest body any bridge service reads when `post_body_limit` is 0 (Crossbar.io: none). */
export const MAX_BODY = 16 * 1024 * 1024;

export interface AcceptedRequest {
  readonly body: Buffer;
  /** The body as text (validated UTF-8). */
  readonly text: string;
  /** JSON services: the body's object. */
  readonly json?: Record<string, unknown>;
}

/** A refusal, and whether the body was left unread (the connection is then closed). */
export class Refused {
  constructor(readonly denial: Denial, readonly unread = false) {}
}

const decoder = new TextDecoder('utf-8', { fatal: true });

export class RequestChecks {
  private readonly networks: NetworkList | undefined;
  private readonly replays: ReplayGuard;
  private readonly bodyLimit: number;

  constructor(private readonly c: BridgeRequestChecks) {
    this.networks = c.requireIp && bridgeNetworkList(c.requireIp);
    this.replays = new ReplayGuard(c.timestampDeltaLimit * 1000);
    this.bodyLimit = c.postBodyLimit > 0 ? c.postBodyLimit : MAX_BODY;
  }

  /** The accepted request, or why not. */
  async check(req: http.IncomingMessage, query: string): Promise<AcceptedRequest | Refused> {
    const early = this.checkHeaders(req);
    if (early) return early;
    const body = await this.readBody(req);
    if (body instanceof Refused) return body;
    // Crossbar.io means category AR467 here but misspells the keyword, so its answer is AR400's.
    if (this.c.githubSecret !== undefined && !githubSignatureValid(this.c.githubSecret, body, req.headersDistinct['x-hub-signature']?.[0])) {
      return new Refused(new Denial(400, DENIALS.AR400()));
    }
    const late = this.checkQuery(query, body) ?? this.checkClient(req);
    if (late) return new Refused(late);
    let text: string;
    try {
      text = decoder.decode(body);
    } catch {
      return new Refused(new Denial(400, DENIALS.AR451()));
    }
    if (!this.c.json) return { body, text };
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return new Refused(new Denial(400, DENIALS.AR453()));
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return new Refused(new Denial(400, DENIALS.AR454()));
    return { body, text, json: value as Record<string, unknown> };
  }

  private checkHeaders(req: http.IncomingMessage): Refused | undefined {
    const type = req.headers['content-type'];
    const elements = type === undefined ? [] : type.split(';').map((x) => x.trim().toLowerCase());
    if (this.c.json && elements.length > 0 && elements[0] !== 'application/json') {
      return new Refused(new Denial(400, DENIALS.AR452(elements[0]!)), true);
    }
    const params = new Map<string, string>();
    if (elements.length > 1) {
      for (const item of elements) {
        if (!item.includes('=')) continue;
        const parts = item.split('=');
        const key = parts[0]!.trim();
        if (parts.length !== 2 || params.has(key)) return new Refused(new Denial(400, DENIALS.AR450()), true);
        params.set(key, parts[1]!.trim());
      }
    }
    const charset = params.get('charset') ?? 'utf-8';
    if (charset !== 'utf-8' && charset !== 'utf8') return new Refused(new Denial(400, DENIALS.AR450()), true);
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > this.bodyLimit) {
      return new Refused(new Denial(413, DENIALS.AR413(Number(declared), this.bodyLimit)), true);
    }
    return undefined;
  }

  private readBody(req: http.IncomingMessage): Promise<Buffer | Refused> {
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const onData = (b: Buffer): void => {
        size += b.length;
        if (size > this.bodyLimit) {
          req.off('data', onData);
          req.pause();
          resolve(new Refused(new Denial(413, DENIALS.AR413(size, this.bodyLimit)), true));
        } else chunks.push(b);
      };
      req.on('data', onData);
      req.on('end', () => resolve(Buffer.concat(chunks, size)));
      req.on('error', () => resolve(new Refused(new Denial(400, DENIALS.AR400()), true)));
    });
  }

  private checkQuery(query: string, body: Buffer): Denial | undefined {
    const args = queryArgs(query);
    const signed = this.c.secret !== undefined;
    const missing = (field: string) => new Denial(400, DENIALS.AR461(`'${field}' field missing`));
    const key = args.get('key');
    if (key === undefined && signed) return missing('key');
    const timestamp = args.get('timestamp');
    let when: number | undefined;
    if (timestamp !== undefined) {
      when = parseBridgeTimestamp(timestamp);
      if (when === undefined) {
        return new Denial(400, DENIALS.AR462(`invalid timestamp '${timestamp}' (must be UTC/ISO-8601, e.g. '2011-10-14T16:59:51.123Z')`));
      }
      if (this.c.timestampDeltaLimit > 0 && Math.abs(when - Date.now()) / 1000 > this.c.timestampDeltaLimit) return new Denial(400, DENIALS.AR464());
    } else if (signed) {
      return new Denial(400, DENIALS.AR461("signed request required, but mandatory 'timestamp' field missing"));
    }
    const seq = args.get('seq');
    if (seq !== undefined) {
      if (!isPythonInt(seq)) return new Denial(400, DENIALS.AR462(`invalid sequence number '${seq}' (must be an integer)`));
    } else if (signed) return missing('seq');
    const nonce = args.get('nonce');
    if (nonce !== undefined) {
      if (!isPythonInt(nonce)) return new Denial(400, DENIALS.AR462(`invalid nonce '${nonce}' (must be an integer)`));
    } else if (signed) return missing('nonce');
    const signature = args.get('signature');
    if (signature === undefined && signed) return missing('signature');
    if (!signed) return undefined;
    if (key !== this.c.key) return new Denial(401, DENIALS.AR460());
    const expected = bridgeSignature(this.c.secret!, key!, timestamp!, seq!, nonce!, body);
    if (!sameSignature(signature!, expected)) return new Denial(401, DENIALS.AR459());
    if (!this.replays.admit(expected, when!)) return new Denial(400, DENIALS.AR462('replayed request: this signature was already used'));
    return undefined;
  }

  private checkClient(req: http.IncomingMessage): Denial | undefined {
    if (this.networks && !this.networks.contains(clientAddress(req))) return new Denial(400, DENIALS.AR466());
    if (this.c.requireTls && (req.socket as TLSSocket).encrypted !== true) return new Denial(400, DENIALS.AR400());
    return undefined;
  }
}

/** GitHub's `X-Hub-Signature`: "sha1=" + hex HMAC-SHA1 of the body with the hook's secret. */
export function githubSignatureValid(secret: string, body: Buffer, header: string | undefined): boolean {
  if (header === undefined) return false;
  const ours = `sha1=${createHmac('sha1', secret).update(body).digest('hex')}`;
  return ours === header.toLowerCase();
}
