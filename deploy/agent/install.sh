#!/bin/sh
# Install the Loa xã agent on Raspberry Pi OS (Bookworm or later) and enrol it.
#
#   sudo sh install.sh --controller https://loa.example.vn --token ONE-TIME-TOKEN \
#        [--mqtt-host HOST] [--mqtt-port PORT]   (default: what the controller answers) [--package 'loaxa[agent]'] [--player mpv]
#
# Idempotent: re-running upgrades the package and keeps an existing /etc/loa/agent.toml
# unless --token is given again.
set -eu

CONTROLLER=""
TOKEN=""
MQTT_HOST=""
MQTT_PORT=""
PACKAGE="loaxa[agent]"
PLAYER="mpv"
PREFIX="/opt/loa"
CONFIG="/etc/loa/agent.toml"

while [ $# -gt 0 ]; do
    case "$1" in
        --controller) CONTROLLER="$2"; shift 2 ;;
        --token) TOKEN="$2"; shift 2 ;;
        --mqtt-host) MQTT_HOST="$2"; shift 2 ;;
        --mqtt-port) MQTT_PORT="$2"; shift 2 ;;
        --package) PACKAGE="$2"; shift 2 ;;
        --player) PLAYER="$2"; shift 2 ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
    esac
done

[ "$(id -u)" -eq 0 ] || { echo "install.sh: run as root (sudo)" >&2; exit 1; }
if [ ! -f "$CONFIG" ] && { [ -z "$CONTROLLER" ] || [ -z "$TOKEN" ]; }; then
    echo "install.sh: first install needs --controller URL and --token TOKEN" >&2
    exit 2
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

if [ -n "$TOKEN" ]; then
    echo "==> enrolling with $CONTROLLER"
    set -- --enrol "$TOKEN" --controller "$CONTROLLER" --write "$CONFIG"
    if [ -n "$MQTT_HOST" ]; then set -- "$@" --mqtt-host "$MQTT_HOST"; fi
    if [ -n "$MQTT_PORT" ]; then set -- "$@" --mqtt-port "$MQTT_PORT"; fi
    "$PREFIX/venv/bin/loa" agent "$@"
    if ! grep -q '^player' "$CONFIG"; then
        echo "player = \"$PLAYER\"" >> "$CONFIG"
    fi
    chown loa:loa "$CONFIG"
    chmod 0600 "$CONFIG"   # only the agent's user may read it (holds the broker password)
fi

echo "==> systemd unit"
SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
install -m 0644 "$SCRIPT_DIR/loa-agent.service" /etc/systemd/system/loa-agent.service
systemctl daemon-reload
systemctl enable --now loa-agent.service
systemctl --no-pager --lines=5 status loa-agent.service || true
echo "==> done: journalctl -u loa-agent -f"
