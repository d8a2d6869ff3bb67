#!/bin/sh
# Time sync for a village node (called by install.sh; safe to re-run).
#
#   sudo sh timesync.sh [NTP_SERVER]
#
# Every speaker starts items on its own clock: two in earshot whose clocks differ by more
# than ~50 ms are heard as an echo along the road. chrony is used when installed (it gives
# the agent an offset to report); otherwise systemd-timesyncd (Pi OS default). NTP_SERVER
# (e.g. the controller's host, for villages without internet) is preferred over the pool.
# The agent does not wait for sync at boot: a node without network still plays on time as
# far as its clock goes, and its heartbeat says whether it is synchronised.
set -eu
SERVER="${1:-}"

if command -v chronyc >/dev/null 2>&1; then
    if [ -n "$SERVER" ]; then
        mkdir -p /etc/chrony/sources.d
        printf 'server %s iburst prefer\n' "$SERVER" > /etc/chrony/sources.d/loa.sources
    fi
    systemctl enable --now chrony.service
    chronyc reload sources >/dev/null 2>&1 || systemctl restart chrony.service
    echo "timesync: chrony${SERVER:+ (server $SERVER)}"
else
    dpkg -s systemd-timesyncd >/dev/null 2>&1 || apt-get install -y -qq systemd-timesyncd
    if [ -n "$SERVER" ]; then
        mkdir -p /etc/systemd/timesyncd.conf.d
        printf '[Time]\nNTP=%s\n' "$SERVER" > /etc/systemd/timesyncd.conf.d/loa.conf
    fi
    timedatectl set-ntp true
    systemctl restart systemd-timesyncd.service
    echo "timesync: systemd-timesyncd${SERVER:+ (server $SERVER)}"
fi
