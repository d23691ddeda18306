/**
 * `tls`: the client is who its TLS client certificate says (Crossbar.io `router/auth/tls.py`).
 * The endpoint verified the certificate against its `ca_certificates` during the handshake;
 * static principals are matched by the certificate's SHA-1 fingerprint (`certificate-sha1`),
 * a dynamic authenticator sees it in `details.transport.peer_cert`. No CHALLENGE.
 */
import type { DynamicAuthConfig, TlsPrincipal } from '../config/types.js';
import type { PeerInfo } from '../connection/peer.js';
import { ErrorUri } from '../wamp/errors.js';
import type { Hello } from '../wamp/messages.js';
import type { AuthOutcome, Authenticator } from './authenticator.js';
import { askAuthenticator, type AuthDeps } from './dynamic.js';
import { FAILED, abort, welcome } from './principal.js';

const NO_CERTIFICATE = abort(ErrorUri.authenticationFailed, 'tls authentication needs a client certificate signed by a CA the endpoint trusts');

export class TlsCertificateAuthenticator implements Authenticator {
  readonly method = 'tls';
  private readonly bySha1 = new Map<string, { authid: string; principal: TlsPrincipal }>();

  constructor(
    private readonly config: { readonly type: 'static'; readonly principals: ReadonlyMap<string, TlsPrincipal> } | DynamicAuthConfig,
    private readonly deps: AuthDeps,
  ) {
    if (config.type === 'static') {
      for (const [authid, principal] of config.principals) this.bySha1.set(principal.certificateSha1, { authid, principal });
    }
  }

  async begin(hello: Hello, peer: PeerInfo): Promise<AuthOutcome> {
    const cert = peer.tls?.peerCertificate;
    if (cert === undefined || !cert.authorized) return NO_CERTIFICATE;
    if (this.config.type === 'static') {
      const hit = this.bySha1.get(cert.sha1);
      if (hit === undefined) {
        this.deps.log.info({ sha1: cert.sha1, subject: cert.subject, remote: peer.remoteAddress }, 'tls: no principal for this client certificate');
        return FAILED;
      }
      return welcome(hello, hit.principal, { authmethod: 'tls', authprovider: 'static', authid: hit.authid });
    }
    const asked = await askAuthenticator(this.deps, this.config, hello, peer, 'tls');
    if (asked.outcome) return asked.outcome;
    return welcome(hello, asked.principal, { authmethod: 'tls', authprovider: 'dynamic' });
  }
}
