import { ErrorUri } from './errors.js';

/**
 * The peer broke the protocol: the session answers ABORT with `uri` and `message`, then closes.
 * `message` names the message and the field ("'topic' in PUBLISH: …"), as it goes to the peer.
 */
export class ProtocolViolation {
  constructor(
    readonly message: string,
    readonly uri: string = ErrorUri.protocolViolation,
  ) {}
}

/**
 * A well-formed request the router refuses before acting on it (e.g. an invalid URI): the
 * session answers ERROR to that request only; the session goes on.
 */
export class RequestRejected {
  constructor(
    readonly requestType: number,
    readonly request: number,
    readonly uri: string,
    readonly message: string,
  ) {}
}
