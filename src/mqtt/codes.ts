/**
 * CONNACK return codes (MQTT 3.1.1 §3.2.2.3) and reason codes (MQTT 5 §2.4), and how a WAMP
 * ABORT reason becomes one.
 */
import { NODE_FULL } from '../balance/admission.js';
import { ErrorUri } from '../wamp/errors.js';

/** MQTT 3.1.1 CONNACK return codes. */
export const ConnectReturn = {
  accepted: 0,
  unacceptableProtocolVersion: 1,
  identifierRejected: 2,
  serverUnavailable: 3,
  badUsernameOrPassword: 4,
  notAuthorized: 5,
} as const;

/** MQTT 5 reason codes used here. */
export const Reason = {
  success: 0x00,
  grantedQos1: 0x01,
  noMatchingSubscribers: 0x10,
  noSubscriptionExisted: 0x11,
  unspecifiedError: 0x80,
  malformedPacket: 0x81,
  protocolError: 0x82,
  implementationSpecificError: 0x83,
  unsupportedProtocolVersion: 0x84,
  clientIdentifierNotValid: 0x85,
  badUserNameOrPassword: 0x86,
  notAuthorized: 0x87,
  serverUnavailable: 0x88,
  serverBusy: 0x89,
  serverShuttingDown: 0x8b,
  badAuthenticationMethod: 0x8c,
  keepAliveTimeout: 0x8d,
  administrativeAction: 0x98,
  sessionTakenOver: 0x8e,
  topicFilterInvalid: 0x8f,
  topicNameInvalid: 0x90,
  packetIdentifierNotFound: 0x92,
  receiveMaximumExceeded: 0x93,
  topicAliasInvalid: 0x94,
  packetTooLarge: 0x95,
  quotaExceeded: 0x97,
  payloadFormatInvalid: 0x99,
  qosNotSupported: 0x9b,
  sharedSubscriptionsNotSupported: 0x9e,
  useAnotherServer: 0x9c,
  subscriptionIdentifiersNotSupported: 0xa1,
} as const;

/** SUBACK failure (3.1.1). */
export const SUBACK_FAILURE = 0x80;

/** What the CONNACK says when the WAMP session was refused with `reason`. */
export function refusal(reason: string, version: 3 | 4 | 5, hadCredentials: boolean, lighterNode = false): number {
  const v5 = version === 5;
  switch (reason) {
    case ErrorUri.authenticationFailed:
    case ErrorUri.noSuchPrincipal:
    case ErrorUri.noAuthMethod:
      if (hadCredentials) return v5 ? Reason.badUserNameOrPassword : ConnectReturn.badUsernameOrPassword;
      return v5 ? Reason.notAuthorized : ConnectReturn.notAuthorized;
    case ErrorUri.notAuthorized:
    case ErrorUri.noSuchRole:
      return v5 ? Reason.notAuthorized : ConnectReturn.notAuthorized;
    case NODE_FULL:
      // cluster.max_sessions: elsewhere when another node is lighter (the reason string names it), else busy.
      if (!v5) return ConnectReturn.serverUnavailable;
      return lighterNode ? Reason.useAnotherServer : Reason.serverBusy;
    default:
      return v5 ? Reason.serverUnavailable : ConnectReturn.serverUnavailable;
  }
}
