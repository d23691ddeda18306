/**
 * Error and close URIs. Where the spec text and the stock clients disagree we follow Autobahn
 * (autobahn/wamp/exception.py) and Crossbar.io, as DESIGN.md "Interop facts" records.
 */
export const ErrorUri = {
  protocolViolation: 'wamp.error.protocol_violation',
  invalidUri: 'wamp.error.invalid_uri',
  invalidArgument: 'wamp.error.invalid_argument',
  noSuchRealm: 'wamp.error.no_such_realm',
  noSuchRole: 'wamp.error.no_such_role',
  noSuchSession: 'wamp.error.no_such_session',
  noSuchSubscription: 'wamp.error.no_such_subscription',
  noSuchProcedure: 'wamp.error.no_such_procedure',
  noSuchRegistration: 'wamp.error.no_such_registration',
  procedureAlreadyExists: 'wamp.error.procedure_already_exists',
  notAuthorized: 'wamp.error.not_authorized',
  authenticationFailed: 'wamp.error.authentication_failed',
  // Autobahn's name; the spec text says no_matching_auth_method.
  noAuthMethod: 'wamp.error.no_auth_method',
  // Autobahn/Crossbar spelling; one spec passage spells it "cancelled".
  canceled: 'wamp.error.canceled',
  timeout: 'wamp.error.timeout',
  payloadSizeExceeded: 'wamp.error.payload_size_exceeded',
  featureNotSupported: 'wamp.error.feature_not_supported',
  optionNotAllowed: 'wamp.error.option_not_allowed',
  // Autobahn's name; the spec text says no_available_callee.
  noEligibleCallee: 'wamp.error.no_eligible_callee',
  // The spec text's name; xbar never sends it, a dynamic authenticator's answer may carry it.
  noAvailableCallee: 'wamp.error.no_available_callee',
  unavailable: 'wamp.error.unavailable',
  // Crossbar.io's (and Autobahn's) names for what the spec leaves open.
  noSuchPrincipal: 'wamp.error.no_such_principal',
  authorizationFailed: 'wamp.error.authorization_failed',
  runtimeError: 'wamp.error.runtime_error',
  internalError: 'wamp.error.internal_error',
  testamentError: 'wamp.error.testament_error',
  historyUnavailable: 'wamp.error.history_unavailable',
  maxConcurrencyReached: 'crossbar.error.max_concurrency_reached',
  // xbar's own.
  tooManyPending: 'xbar.error.too_many_pending',
  /** A `limits.*` cap was reached; the message names the key. */
  limitExceeded: 'xbar.error.limit_exceeded',
  backplaneUnavailable: 'xbar.error.backplane_unavailable',
  registryUnavailable: 'xbar.error.registry_unavailable',
} as const;

export const CloseUri = {
  normal: 'wamp.close.normal',
  systemShutdown: 'wamp.close.system_shutdown',
  closeRealm: 'wamp.close.close_realm',
  goodbyeAndOut: 'wamp.close.goodbye_and_out',
  killed: 'wamp.close.killed',
  /** A client's GOODBYE reason that also logs its tracking cookie out (Crossbar.io). */
  logout: 'wamp.close.logout',
} as const;
