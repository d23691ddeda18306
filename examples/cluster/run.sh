#!/usr/bin/env bash
# Starts the example cluster on loopback: a NATS server (with JetStream), three xbar nodes and
# HAProxy. Clients connect to ws://127.0.0.1:8080/ws. "cluster up" is printed once every node
# answers /health/ready with 200 and HAProxy serves; Ctrl-C stops everything.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
data="$(mktemp -d)"
pids=()
stop() { trap - EXIT INT TERM; kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$data"; }
trap stop EXIT INT TERM

# wait_for WHAT COMMAND…: runs COMMAND every 0.2 s until it succeeds, at most 60 s.
wait_for() {
  local what=$1; shift
  for _ in $(seq 300); do
    "$@" >/dev/null 2>&1 && return 0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || { echo "run.sh: a process exited while waiting for $what" >&2; exit 1; }; done
    sleep 0.2
  done
  echo "run.sh: $what not ready after 60 s" >&2
  exit 1
}
ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$1")" = 200 ]; }

nats-server -a 127.0.0.1 -p 14222 -js -sd "$data/nats" & pids+=($!)
wait_for "nats-server on 127.0.0.1:14222" bash -c 'exec 3<>/dev/tcp/127.0.0.1/14222'
for i in 1 2 3; do
  node "$root/bin/xbar.js" start --config "$here/node$i.yaml" & pids+=($!)
done
# Each node's operator endpoint (no PROXY header needed) says when it serves and its backplane is up.
for port in 18101 18102 18103; do
  wait_for "http://127.0.0.1:$port/health/ready" ready "http://127.0.0.1:$port/health/ready"
done
haproxy -db -f "$here/haproxy.cfg" & pids+=($!)
wait_for "HAProxy on 127.0.0.1:8080" ready "http://127.0.0.1:8080/health/ready"
echo "cluster up: ws://127.0.0.1:8080/ws (HAProxy) → nodes on 18081-18083; stats at http://127.0.0.1:18101/stats"
wait
