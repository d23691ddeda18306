// Minimal typings for the parts of Autobahn|JS the tests use (the package ships none).
declare module 'autobahn' {
  namespace autobahn {
    interface SubscribeOptions { match?: 'exact' | 'prefix' | 'wildcard'; get_retained?: boolean }
    interface PublishOptions {
      acknowledge?: boolean; exclude_me?: boolean; exclude?: number[]; eligible?: number[];
      exclude_authid?: string[]; exclude_authrole?: string[]; eligible_authid?: string[]; eligible_authrole?: string[];
      disclose_me?: boolean; retain?: boolean;
    }
    interface RegisterOptions { match?: 'exact' | 'prefix' | 'wildcard'; invoke?: string; concurrency?: number; disclose_caller?: boolean; force_reregister?: boolean }
    interface CallOptions { timeout?: number; receive_progress?: boolean; disclose_me?: boolean; progress?: boolean }
    interface EventDetails {
      publication: number; topic?: string; publisher?: number; publisher_authid?: string; publisher_authrole?: string; retained?: boolean;
    }
    interface InvocationDetails {
      procedure?: string; caller?: number; caller_authid?: string; caller_authrole?: string;
      progress?: (args?: unknown[], kwargs?: Record<string, unknown>) => void;
    }
    class Subscription { id: number; topic: string; active: boolean }
    class Registration { id: number; procedure: string; active: boolean }
    class Publication { id: number }
    class Result { args: unknown[]; kwargs: Record<string, unknown>; constructor(args?: unknown[], kwargs?: Record<string, unknown>) }
    class Error {
      error: string; args: unknown[]; kwargs: Record<string, unknown>;
      constructor(error: string, args?: unknown[], kwargs?: Record<string, unknown>);
    }
    type Handler = (args: unknown[], kwargs: Record<string, unknown>, details: EventDetails) => void;
    type Endpoint = (args: unknown[], kwargs: Record<string, unknown>, details: InvocationDetails) => unknown;
    interface Session {
      id: number; isOpen: boolean; realm: string;
      features: unknown;
      subscribe(topic: string, handler: Handler, options?: SubscribeOptions): Promise<Subscription>;
      unsubscribe(sub: Subscription): Promise<boolean>;
      publish(topic: string, args?: unknown[], kwargs?: Record<string, unknown>, options?: PublishOptions): Promise<Publication> | undefined;
      register(procedure: string, endpoint: Endpoint, options?: RegisterOptions): Promise<Registration>;
      unregister(reg: Registration): Promise<unknown>;
      call(procedure: string, args?: unknown[], kwargs?: Record<string, unknown>, options?: CallOptions): Promise<unknown> & { cancel?: unknown };
      leave(reason?: string, message?: string): void;
    }
    interface ConnectionOptions {
      url?: string; realm: string; protocols?: string[]; serializers?: unknown[]; max_retries?: number;
      transports?: Record<string, unknown>[]; authmethods?: string[]; authid?: string;
      onchallenge?: (session: Session, method: string, extra: Record<string, unknown>) => string | Promise<string>;
      initial_retry_delay?: number; max_retry_delay?: number; retry_delay_growth?: number; retry_if_unreachable?: boolean;
      autoping_interval?: number;
    }
    class Connection {
      constructor(options: ConnectionOptions);
      session: Session | null;
      isOpen: boolean;
      onopen: (session: Session, details: Record<string, unknown>) => void;
      onclose: (reason: string, details: Record<string, unknown>) => boolean | void;
      open(): void;
      close(reason?: string, message?: string): void;
    }
    const serializer: {
      JSONSerializer: new () => unknown;
      MsgpackSerializer: new () => unknown;
      CBORSerializer: new () => unknown;
    };
  }
  export default autobahn;
}
