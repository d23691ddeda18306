#!/usr/bin/env bash
# Starts the example cluster on loopback: a NATS server (with JetStream), three xbar nodes and
# HAProxy. Clients connect to ws://127.0.0.1:8080/ws. Ctrl-C stops everything.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
data="$(mktemp -d)"
pids=()
stop() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$data"; }
trap stop EXIT INT TERM

nats-server -a 127.0.0.1 -p 14222 -js -sd "$data/nats" & pids+=($!)
sleep 1
for i in 1 2 3; do
  node "$root/bin/xbar.js" start --config "$here/node$i.yaml" & pids+=($!)
done
sleep 2
haproxy -db -f "$here/haproxy.cfg" & pids+=($!)
echo "cluster up: ws://127.0.0.1:8080/ws (HAProxy) → nodes on 18081-18083; stats at http://127.0.0.1:18101/stats"
wait
