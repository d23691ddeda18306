import type { SerializerId } from '../serializers/serializer.js';

/** Where an rlink connects: a WebSocket URL or a RawSocket endpoint, with one serializer. */
export type RLinkTransportConfig =
  | { readonly type: 'websocket'; readonly url: string; readonly serializer: SerializerId; readonly unixPath?: string; readonly timeoutMs: number }
  | { readonly type: 'rawsocket'; readonly target: { readonly host: string; readonly port: number } | { readonly path: string }; readonly serializer: SerializerId; readonly timeoutMs: number };

/** A router-to-router link of a realm (Crossbar.io's `RLinkConfig`). */
export interface RLinkConfig {
  readonly id: string;
  /** The remote router's realm. */
  readonly realm: string;
  readonly transport: RLinkTransportConfig;
  /** The authid the link asks for on the remote router (and its local session's authid). */
  readonly authid?: string;
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
