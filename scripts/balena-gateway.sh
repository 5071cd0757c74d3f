#!/bin/sh
# Entry point of the gateway service of the daneel block: creates the gateway's identity on first start (and
# prints the TLSA record to publish), then runs `daneel gateway` (store and state on the gateway volume).
set -eu

: "${CRYPTO_PATH:=/data/crypto}"
: "${KEY_TYPE:=p256}"
export CRYPTO_PATH
APP="${DANEEL_APP:-/opt/daneel}"
NAME="${DANE_ID:-${IDENTITY_NAME:-}}"

if [ -z "$NAME" ]; then
  echo "daneel gateway: set DANE_ID (the gateway's identity name, e.g. gw1.gateway._device.example.com) in the service variables" >&2
  exec sleep infinity
fi
if [ ! -f "$CRYPTO_PATH/$NAME.key.pem" ]; then
  node "$APP/daneel.js" identity create --key-type "$KEY_TYPE"
fi
exec node --max-old-space-size=96 --max-semi-space-size=4 "$APP/daneel.js" gateway   # as systemd/daneel-gateway.service
