/**
 * The roles and features announced in WELCOME: exactly what this router implements, nothing
 * more (advanced/features.md names them).
 */
export const BROKER_FEATURES = {
  publisher_identification: true,
  publisher_exclusion: true,
  subscriber_blackwhite_listing: true,
  pattern_based_subscription: true,
  // Meta API, retention and history: router/meta/.
  session_meta_api: true,
  subscription_meta_api: true,
  event_retention: true,
  event_history: true,
} as const;

export const DEALER_FEATURES = {
  caller_identification: true,
  pattern_based_registration: true,
  shared_registration: true,
  progressive_call_results: true,
  progressive_call_invocations: true,
  call_timeout: true,
  call_canceling: true,
  registration_revocation: true,
  session_meta_api: true,
  registration_meta_api: true,
  testament_meta_api: true,
} as const;

export function routerRoles(): RouterRoles {
  return ROUTER_ROLES;
}

type RouterRoles = Readonly<Record<string, { readonly features: Readonly<Record<string, boolean>> }>>;

// One object for every WELCOME (it is only encoded, never changed).
const ROUTER_ROLES: RouterRoles = Object.freeze({
  broker: Object.freeze({ features: BROKER_FEATURES }),
  dealer: Object.freeze({ features: DEALER_FEATURES }),
});
