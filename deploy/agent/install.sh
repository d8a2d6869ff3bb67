#!/bin/sh
# Install the Loa xã agent on Raspberry Pi OS (Bookworm or later) and enrol it.
#
#   sudo sh install.sh --controller https://loa.example.vn --token-file /root/loa-token \
#        [--mqtt-host HOST] [--mqtt-port PORT] [--package 'loaxa[agent]'] [--player mpv]
#   printf '%s' "$TOKEN" | sudo sh install.sh --controller https://loa.example.vn --token -
#
# The token (from `loa nodes add` / `loa nodes token`, valid 72 h, single use) pins the
# controller's CA and signing key: enrolment refuses any other server. It is read from a file
# or stdin, never the command line. Idempotent: re-running upgrades the package and keeps an
# existing /etc/loa/agent.toml unless a token is given again.
set -eu

CONTROLLER=""
TOKEN_FILE=""
INSECURE=""
MQTT_HOST=""
MQTT_PORT=""
PACKAGE="loaxa[agent]"
PLAYER="mpv"
PREFIX="/opt/loa"
CONFIG="/etc/loa/agent.toml"

while [ $# -gt 0 ]; do
    case "$1" in
        --controller) CONTROLLER="$2"; shift 2 ;;
        --token-file) TOKEN_FILE="$2"; shift 2 ;;
        --token)
            [ "$2" = "-" ] || { echo "install.sh: --token takes '-' (stdin) only; use --token-file" >&2; exit 2; }
            TOKEN_FILE="-"; shift 2 ;;
        --insecure) INSECURE="--insecure"; shift ;;   # http:// controller: tests only
        --mqtt-host) MQTT_HOST="$2"; shift 2 ;;
        --mqtt-port) MQTT_PORT="$2"; shift 2 ;;
        --package) PACKAGE="$2"; shift 2 ;;
        --player) PLAYER="$2"; shift 2 ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
    esac
done

[ "$(id -u)" -eq 0 ] || { echo "install.sh: run as root (sudo)" >&2; exit 1; }
if [ ! -f "$CONFIG" ] && { [ -z "$CONTROLLER" ] || [ -z "$TOKEN_FILE" ]; }; then
    echo "install.sh: first install needs --controller https://URL and --token-file FILE (or --token - )" >&2
    exit 2
fi
case "$CONTROLLER" in
    ""|https://*) ;;
    http://*) [ -n "$INSECURE" ] || { echo "install.sh: refusing plain http:// (use https://)" >&2; exit 2; } ;;
    *) echo "install.sh: controller URL must start with https://" >&2; exit 2 ;;
esac
if [ "$TOKEN_FILE" = "-" ]; then
    # read stdin now: apt-get and pip below must not swallow it
    umask 077
    TOKEN_FILE=$(mktemp)
    trap 'rm -f "$TOKEN_FILE"' EXIT
    head -c 400 > "$TOKEN_FILE"
    umask 022
fi

case "$PLAYER" in
    mpv) PLAYER_PKG="mpv" ;;
    ffplay) PLAYER_PKG="ffmpeg" ;;
    aplay|null|tap) PLAYER_PKG="" ;;
    *) echo "install.sh: unknown player $PLAYER (mpv, ffplay, aplay)" >&2; exit 2 ;;
esac

echo "==> system packages"
apt-get update -qq
# shellcheck disable=SC2086  # PLAYER_PKG may be empty on purpose
apt-get install -y -qq python3-venv python3-pip alsa-utils ca-certificates $PLAYER_PKG
apt-get install -y -qq python3-gpiozero 2>/dev/null || true

echo "==> user and directories"
id loa >/dev/null 2>&1 || useradd --system --home-dir /var/lib/loa --shell /usr/sbin/nologin loa
usermod -a -G audio loa
getent group gpio >/dev/null && usermod -a -G gpio loa
install -d -m 0750 -o loa -g loa /var/lib/loa /var/lib/loa/agent
install -d -m 0750 -o root -g loa /etc/loa

echo "==> virtualenv in $PREFIX/venv"
python3 -m venv --system-site-packages "$PREFIX/venv"   # system gpiozero stays importable
"$PREFIX/venv/bin/pip" install --quiet --upgrade pip
"$PREFIX/venv/bin/pip" install --quiet --upgrade "$PACKAGE"

if [ -n "$TOKEN_FILE" ]; then
    echo "==> enrolling with $CONTROLLER (pinned CA and signing key from the token)"
    set -- --enrol --token-file "$TOKEN_FILE" --controller "$CONTROLLER" --write "$CONFIG"
    if [ -n "$INSECURE" ]; then set -- "$@" --insecure; fi
    if [ -n "$MQTT_HOST" ]; then set -- "$@" --mqtt-host "$MQTT_HOST"; fi
    if [ -n "$MQTT_PORT" ]; then set -- "$@" --mqtt-port "$MQTT_PORT"; fi
    "$PREFIX/venv/bin/loa" agent "$@"
    if ! grep -q '^player' "$CONFIG"; then
        echo "player = \"$PLAYER\"" >> "$CONFIG"
    fi
    chown loa:loa "$CONFIG"
    chmod 0600 "$CONFIG"   # only the agent's user may read it (holds the broker password)
    CA_FILE="$(dirname "$CONFIG")/controller-ca.pem"   # the pinned CA, if the controller has one
    if [ -f "$CA_FILE" ]; then chown loa:loa "$CA_FILE"; fi
fi

echo "==> systemd unit"
SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
sh "$SCRIPT_DIR/timesync.sh" "${LOA_NTP_SERVER:-}"   # clock sync: neighbours must not echo
install -m 0644 "$SCRIPT_DIR/loa-agent.service" /etc/systemd/system/loa-agent.service
systemctl daemon-reload
systemctl enable --now loa-agent.service
systemctl --no-pager --lines=5 status loa-agent.service || true
echo "==> done: journalctl -u loa-agent -f"
