#!/bin/sh
# Entry point of the daneel block: first-boot provisioning from the environment, then the device runtime.
# `daneel provision --first-boot` creates the identity if it is missing, prints its TLSA record (and the PKIX-CD
# URL when NO_DNSSEC), waits with `daneel identity check --wait` until DNS serves it, and records that, so later
# starts go straight to the runtime: the block stops complaining once the identity is provisioned.
set -eu

# While this file exists the healthcheck (docker-compose.yml) passes: we are waiting on purpose and said why.
WAITING="${DANEEL_WAITING:-/tmp/daneel-waiting}"
wait_forever() {
  : > "$WAITING"
  exec sleep infinity
}

: "${CRYPTO_PATH:=/data/crypto}"
: "${DANEEL_CONFIG:=/data/device.json}"
: "${KEY_TYPE:=p256}"
: "${NODE_OPTIONS_DANEEL:=--max-old-space-size=48 --max-semi-space-size=1}"
export CRYPTO_PATH
APP="${DANEEL_APP:-/opt/daneel}"

# Started as root (compose `user: root`): only to take over an identity volume the original identity-manager
# wrote as root (scripts/adopt-identity.sh), then run as APP_UID from here on, never as root.
# (The image always ships adopt-identity.sh beside this script; without it there is nothing to hand over.)
if [ "$(id -u)" = 0 ] && [ -x "$APP/adopt-identity.sh" ]; then
  uid="${APP_UID:-1000}"
  [ "$uid" = 0 ] && { echo "daneel: APP_UID=0 would run as root; set APP_UID to the app user (1000)" >&2; exec sleep infinity; }
  "$APP/adopt-identity.sh" "$CRYPTO_PATH" "$uid"
  mkdir -p "${DANEEL_STATE:-/data/state}" && chown "$uid:$uid" "${DANEEL_STATE:-/data/state}"
  # keep the supplementary groups the service was given (dialout, gpio), minus root's
  groups=$(id -G | tr ' ' '\n' | grep -vx 0 | paste -sd, - || true)
  if [ -n "$groups" ]; then exec setpriv --reuid="$uid" --regid="$uid" --groups="$groups" "$0" "$@"; fi
  exec setpriv --reuid="$uid" --regid="$uid" --clear-groups "$0" "$@"
fi

if [ -z "${DANE_ID:-${IDENTITY_NAME:-}}" ]; then
  echo "daneel: set DANE_ID (the device identity name, e.g. node1.airquality._device.example.com) in the fleet or device variables" >&2
  # Sleep rather than exit: a restart loop would only repeat this line every second.
  wait_forever
fi

: > "$WAITING"
until node "$APP/daneel.js" provision --first-boot --key-type "$KEY_TYPE"; do
  status=$?
  [ "$status" -eq 2 ] && { echo "daneel: fix the settings above; waiting" >&2; wait_forever; }
  echo "daneel: identity not provisioned yet; trying again in 60 s" >&2
  sleep 60
done

# A block's volume cannot be edited from the dashboard, so the device config may come as a variable instead.
if [ -n "${DANEEL_CONFIG_JSON:-}" ]; then
  printf '%s\n' "$DANEEL_CONFIG_JSON" > "$DANEEL_CONFIG.tmp" && mv "$DANEEL_CONFIG.tmp" "$DANEEL_CONFIG"
fi
if [ ! -f "$DANEEL_CONFIG" ]; then
  echo "daneel: no device config at $DANEEL_CONFIG: set DANEEL_CONFIG_JSON (see examples/ in the repository); waiting" >&2
  wait_forever
fi

# The runtime runs as our child, not exec'd: a bad config (exit 2) must end in a message and a wait, not in
# `restart: always` starting it again every second. Signals are passed on (SIGTERM drains, SIGHUP reloads).
rm -f "$WAITING"
# shellcheck disable=SC2086 # the Node flags are meant to split
node $NODE_OPTIONS_DANEEL "$APP/daneel-device.js" --config "$DANEEL_CONFIG" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null || true' TERM INT
trap 'kill -HUP "$child" 2>/dev/null || true' HUP
trap 'kill -USR1 "$child" 2>/dev/null || true' USR1
status=0
while :; do
  status=0
  wait "$child" || status=$?
  # A trapped signal interrupts `wait` (status > 128) while the runtime goes on: wait again.
  kill -0 "$child" 2>/dev/null || break
done
if [ "$status" -eq 2 ]; then
  echo "daneel: the runtime refused its config or settings (the line above says which); fix DANEEL_CONFIG_JSON or the variables; waiting" >&2
  wait_forever
fi
exit "$status"
