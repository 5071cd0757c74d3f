#!/bin/sh
# Takes over an identity volume written by the original system's identity-manager block, which runs as root and
# leaves CRYPTO_PATH (/etc/dane_id) and its files owned by APP_UID, 0 by default, the key mode 0600 (its
# idlib/bootstrap.py write_pki_asset). Our block runs as a non-root user and could not read that key.
# Usage (as root): adopt-identity.sh DIR UID [GID]
# Hands DIR and the identity files in it (*.key.pem, *.crt.pem, *.csr.pem, and the workshop's *.cert.pem) to
# UID:GID; keys stay 0600, certificates and CSRs become 0644 (they are public). Nothing else in DIR is touched,
# no file is rewritten, and running it again changes nothing. Prints one line per file it changed.
set -eu
dir=${1:?usage: adopt-identity.sh DIR UID [GID]}
uid=${2:?usage: adopt-identity.sh DIR UID [GID]}
gid=${3:-$uid}
case "$uid$gid" in *[!0-9]*) echo "adopt-identity: UID and GID must be numbers, not '$uid' '$gid'" >&2; exit 2 ;; esac
[ -d "$dir" ] || { echo "adopt-identity: no directory $dir" >&2; exit 2; }
if [ "$(id -u)" != 0 ]; then
  echo "adopt-identity: must run as root to take over $dir (start the container once with user root)" >&2
  exit 2
fi
own() { # PATH MODE
  if [ "$(stat -c '%u:%g %a' "$1")" != "$uid:$gid $2" ]; then
    chown "$uid:$gid" "$1"
    chmod "$2" "$1"
    echo "adopt-identity: $1 now $uid:$gid mode $2"
  fi
}
own "$dir" 700
for f in "$dir"/*.key.pem; do [ -f "$f" ] && own "$f" 600; done
for f in "$dir"/*.crt.pem "$dir"/*.cert.pem "$dir"/*.csr.pem; do [ -f "$f" ] && own "$f" 644; done
exit 0
