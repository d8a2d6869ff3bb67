#!/usr/bin/env bash
# Install or upgrade a Loa xã controller on Debian 12 (as root), without containers:
#   bash deploy/production/install.sh --server-name loa.tinh.gov.vn [--database-url URL]
#        [--tls-cert cert.pem --tls-key key.pem]
# Re-running upgrades (new release + migrations + restart); secrets are kept. Everything
# after the packages is `loa setup production` (Python, tested); see docs/operations.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "$(id -u)" -ne 0 ]; then echo "install.sh: run as root" >&2; exit 2; fi

pkgs=()
for p in mosquitto nginx ffmpeg espeak-ng python3-venv postgresql-client; do
  dpkg -s "$p" >/dev/null 2>&1 || pkgs+=("$p")
done
if [ "${#pkgs[@]}" -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}"
fi

# a bootstrap venv just to run the installer (each release gets its own venv)
boot=/opt/loa/installer
if [ ! -x "$boot/bin/python" ]; then python3 -m venv "$boot"; fi
"$boot/bin/pip" install -q ".[controller,postgres]"
exec "$boot/bin/loa" setup production --source "$PWD" "$@"
