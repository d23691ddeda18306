#!/usr/bin/env bash
# Makes sure of the system tools the tests run against (npm cannot install them): nats-server and
# haproxy (test/cluster/), chromium (test/e2e/, via playwright-core), openssl and Debian's
# Autobahn|Python with Twisted and cbor2 (test/integration/auth/, text fidelity), mosquitto-clients
# and python3-paho-mqtt (test/integration/mqtt/), python3-requests (crossbar-examples' rest/ scripts,
# test/integration/web/), python3-flask (the Flask app of crossbar-examples' wsgi/,
# test/integration/web/python-web.test.ts). `npm test` runs it first, and so does `.ci/run`
# through `npm test`. Missing ones are installed with apt-get when running as root; otherwise it
# stops at once with the one command that installs them.
set -euo pipefail

missing=()
for tool in nats-server haproxy chromium openssl; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
# Debian's Autobahn|Python is /usr/bin/python3's, not another python3 on PATH.
/usr/bin/python3 -c 'import autobahn, twisted' >/dev/null 2>&1 || missing+=(python3-autobahn)
/usr/bin/python3 -c 'import cbor2' >/dev/null 2>&1 || missing+=(python3-cbor2)
# Autobahn|Python's WAMP-SCRAM client derives argon2id keys with argon2-cffi (test/integration/auth/scram.test.ts).
/usr/bin/python3 -c 'import argon2' >/dev/null 2>&1 || missing+=(python3-argon2)
command -v mosquitto_sub >/dev/null 2>&1 || missing+=(mosquitto-clients)
/usr/bin/python3 -c 'import paho.mqtt.client' >/dev/null 2>&1 || missing+=(python3-paho-mqtt)
/usr/bin/python3 -c 'import requests' >/dev/null 2>&1 || missing+=(python3-requests)
/usr/bin/python3 -c 'import flask' >/dev/null 2>&1 || missing+=(python3-flask)

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "xbar tests need system packages: run  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing: ${missing[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
