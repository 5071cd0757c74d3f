#!/usr/bin/env bash
# Installs the Debian packages the integration tests use as real peers and oracles:
#   openssl (certificate/TLSA oracle, s_server/s_client), knot + knot-dnsutils (authoritative DNSSEC server, kdig),
#   ldnsutils (zone signing for the test tree), bind9-dnsutils (delv: reference validator), unbound (reference validator),
#   mosquitto (MQTT broker), socat (pseudo-terminal pairs for serial tests), systemd (systemd-analyze for unit checks),
#   python3-jwcrypto (an independent JOSE decoder for the DEF CON 29 workshop's message form, test/cli/legacy-cli.test.ts).
#   chromium (the gateway dashboard's browser tests, driven by playwright-core at /usr/bin/chromium).
#   rabbitmq-server (3-node MQTT/AMQP cluster, testkit/rabbitmq.ts), postgresql (the PostgreSQL store, testkit/postgres.ts).
# Skips apt when every tool is already present. The packaged services are not started (policy-rc.d when in a container).
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"
need=()
for t in openssl:openssl knotd:knot kdig:knot-dnsutils ldns-signzone:ldnsutils delv:bind9-dnsutils unbound:unbound \
         mosquitto:mosquitto socat:socat systemd-analyze:systemd /usr/bin/chromium:chromium rabbitmq-server:rabbitmq-server; do
  command -v "${t%%:*}" >/dev/null 2>&1 || need+=("${t##*:}")
done
/usr/bin/python3 -c 'import jwcrypto' >/dev/null 2>&1 || need+=(python3-jwcrypto)
# PostgreSQL's binaries live under its major version, off PATH
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
pkgs=("${need[@]}")
if [ ${#pkgs[@]} -eq 0 ]; then echo "test dependencies present"; exit 0; fi
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
echo "installed: ${pkgs[*]}"
