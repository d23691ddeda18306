/**
 * The commented YAML that `xbar init` writes: the embedded default (`defaults.ts`) with each key
 * explained. A unit test checks that it parses to exactly `defaultConfig()`.
 */

const STARTER = `# xbar node configuration: the Crossbar.io node configuration format, version 2.
# A Crossbar.io config.json or config.yaml with router workers runs unchanged; keys xbar does not
# implement are reported as errors rather than ignored. Check a file with: xbar check <file>
version: 2

# Crossbar.io runs one process per worker; xbar runs all router workers in one process.
workers:
  - type: router

    # A realm is a routing and authorization domain; clients name it in HELLO.
    realms:
      - name: realm1
        # options:
        #   uri_check: loose        # or "strict": URIs of lowercase letters, digits and "_" only
        roles:
          # The role clients get from "auth" below. Without a matching permission, an action
          # is denied.
          - name: anonymous
            permissions:
              - uri: ""             # with match "prefix", "" matches every URI
                match: prefix       # exact | prefix | wildcard ("com..update")
                allow:              # each defaults to false
                  call: true
                  register: true
                  publish: true
                  subscribe: true
                disclose:           # reveal the caller/publisher session to callees/subscribers
                  caller: false
                  publisher: false
                cache: true         # the decision may be cached per URI (static permissions)

    transports:
      # HTTP server; WAMP-over-WebSocket at ws://127.0.0.1:8080/ws
      - type: web
        # id: web1                # optional; unnamed transports are transport001, transport002…
        endpoint:
          type: tcp
          interface: 127.0.0.1    # without "interface", every interface (0.0.0.0) is bound
          port: 8080
        paths:
          ws:                     # a URL path segment; "/" is the root
            type: websocket
            serializers: [json, msgpack, cbor]
            options:
              auto_ping_interval: 10000   # ms between WebSocket pings; 0 = no pings
              auto_ping_timeout: 5000     # ms to wait for the pong before closing
              # Which web pages may connect (the Origin header); clients that send none always may.
              # Crossbar.io's patterns: "*" matches anything, "." is literal, the rest is a regular
              # expression. ["*"] allows every page. These: pages served from loopback, any port.
              allowed_origins:
                - "https?://localhost:*"
                - "https?://127[.][0-9]+[.][0-9]+[.][0-9]+:*"
                - "https?://::1:*"
              allow_null_origin: false    # "null": file: pages, sandboxed frames
              # max_message_size: 16777216  # bytes; larger incoming messages close the connection
              # max_out_buffer: 67108864    # bytes queued for a slow client before slow_consumer applies
              # slow_consumer: drop         # drop: skip events for it; disconnect: close it
              # hello_timeout: 10000        # ms from connect to a completed WAMP opening handshake
            auth:
              anonymous:
                type: static
                role: anonymous
          stats:                  # live statistics page; its JSON at /stats.json
            type: stats
          metrics:                # Prometheus text exposition
            type: metrics
          health:                 # liveness; /health/ready is readiness (for load balancers)
            type: health

      # WAMP-over-RawSocket at tcp://127.0.0.1:8081 (one TCP connection, length-prefixed frames)
      - type: rawsocket
        endpoint:
          type: tcp
          interface: 127.0.0.1
          port: 8081
        serializers: [json, msgpack, cbor]
        # options:                # the same max_message_size (at most 16 MiB), max_out_buffer,
        #   max_message_size: 16777216    # slow_consumer and hello_timeout as WebSocket
        auth:
          anonymous:
            type: static
            role: anonymous
`;

/** The starter configuration file, YAML with comments. */
export function starterConfigYaml(): string {
  return STARTER;
}
