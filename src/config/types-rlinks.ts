import type { SerializerId } from '../serializers/serializer.js';

/** A connecting endpoint's TLS (Crossbar.io's `tls` of a connecting TCP endpoint), files read at load. */
export interface RLinkTlsConfig {
  /** The name the remote router's certificate must carry (and the SNI name). */
  readonly hostname: string;
  /** PEM certificates to trust instead of the platform's. */
  readonly caCertificates?: readonly string[];
  /** A client certificate and its key (PEM), for a remote that asks for one. */
  readonly certificate?: string;
  readonly key?: string;
}

/** Where an rlink connects: a WebSocket URL or a RawSocket endpoint, with one serializer. */
export type RLinkTransportConfig =
  | { readonly type: 'websocket'; readonly url: string; readonly serializer: SerializerId; readonly unixPath?: string; readonly timeoutMs: number; readonly tls?: RLinkTlsConfig }
  | { readonly type: 'rawsocket'; readonly target: { readonly host: string; readonly port: number } | { readonly path: string }; readonly serializer: SerializerId; readonly timeoutMs: number; readonly tls?: RLinkTlsConfig };

/** A router-to-router link of a realm (Crossbar.io's `RLinkConfig`). */
export interface RLinkConfig {
  readonly id: string;
  /** The remote router's realm. */
  readonly realm: string;
  readonly transport: RLinkTransportConfig;
  /** The authid the link asks for on the remote router (and its local session's authid). */
  readonly authid?: string;
  /**
   * The node's key file (`key.priv` in the node directory, Crossbar.io's format; created at start
   * when missing): the link offers WAMP-cryptosign with it, then anonymous. Without it, anonymous only.
   */
  readonly nodeKeyFile?: string;
  /** Sessions of these authids on the remote router never get events the link forwards there. */
  readonly excludeAuthid: readonly string[];
  /** Local subscriptions get the remote router's events. */
  readonly forwardLocalEvents: boolean;
  /** Remote subscriptions get this router's events. */
  readonly forwardRemoteEvents: boolean;
  /** Local registrations are callable on the remote router. */
  readonly forwardLocalInvocations: boolean;
  /** Remote registrations are callable here. */
  readonly forwardRemoteInvocations: boolean;
}
