#!/bin/sh
# loa-release: install, switch, supervise and roll back Loa xa agent releases.
#
#   loa-release install DIST_DIR VERSION PYTHON [--system-site-packages]
#   loa-release switch VERSION [--trial]     # point ROOT/current at releases/VERSION
#   loa-release run [-- AGENT ARGS]           # supervise ROOT/current/bin/python -m agent
#   loa-release rollback REASON               # restore the previous release now
#   loa-release status
#
# ROOT is $LOA_ROOT (default /opt/loa). Layout:
#   releases/<version>/   one virtualenv per release, installed side by side
#   current               symlink to the running release (switched atomically)
#   trial                 "<version> <previous> <deadline epoch> <starts>" while a new
#                         release has not yet come back (written by `switch --trial`)
#   update-result         "update_failed <version> <reason>", read and reported by the agent
#
# This script lives outside every release on purpose: a release that fails at import, crashes
# at start or never reconnects is rolled back by the shell, not by its own Python. During a
# trial each start is counted; after LOA_UPDATE_MAX_STARTS (3) starts, or when
# LOA_UPDATE_TRIAL_S (300) seconds pass, the previous release is restored. The new agent ends
# the trial itself once it has connected and sent a heartbeat with its version.
# Exit status 75 from the agent means "restart me" (an update switched `current`).
set -eu

ROOT=${LOA_ROOT:-/opt/loa}
TRIAL_S=${LOA_UPDATE_TRIAL_S:-300}
MAX_STARTS=${LOA_UPDATE_MAX_STARTS:-3}
RESTART=75

die() { echo "loa-release: $*" >&2; exit 2; }
log() { echo "loa-release: $*" >&2; }

current_version() {
    if [ -L "$ROOT/current" ]; then basename "$(readlink "$ROOT/current")"; fi
}

point_current() {  # atomic: a new symlink renamed over the old one
    [ -x "$ROOT/releases/$1/bin/python" ] || die "release $1 is not installed"
    ln -sfn "releases/$1" "$ROOT/current.new"
    mv -T "$ROOT/current.new" "$ROOT/current"
}

cmd_install() {
    [ $# -ge 3 ] || die "usage: install DIST_DIR VERSION PYTHON [--system-site-packages]"
    dist=$1; version=$2; python=$3; site=${4:-}
    case "$version" in *[!A-Za-z0-9.+-]*|"") die "bad version $version" ;; esac
    [ "$version" != "$(current_version)" ] || die "release $version is the running one"
    wheel="$dist/loaxa_agent-$version-py3-none-any.whl"
    [ -f "$wheel" ] && [ -f "$dist/requirements.lock" ] || die "$dist lacks the wheel or lock"
    target="$ROOT/releases/$version"
    mkdir -p "$ROOT/releases"
    rm -rf "$target"
    # shellcheck disable=SC2086  # $site is empty or one flag
    "$python" -m venv $site "$target" || { rm -rf "$target"; die "venv failed"; }
    set -- --isolated --disable-pip-version-check install --quiet --no-cache-dir --require-hashes \
        --only-binary=:all: -r "$dist/requirements.lock"
    if ls "$dist"/wheels/*.whl >/dev/null 2>&1; then
        set -- "$@" --no-index --find-links "$dist/wheels"   # offline: the controller's wheels
    fi
    if ! "$target/bin/python" -m pip "$@"; then rm -rf "$target"; die "dependencies failed"; fi
    # the agent wheel itself: its SHA-256 was checked against the signed manifest
    if ! "$target/bin/python" -m pip --isolated --disable-pip-version-check install --quiet --no-cache-dir \
        --no-deps --no-index "$wheel"; then
        rm -rf "$target"; die "agent wheel failed"
    fi
    log "installed $version in $target"
}

cmd_switch() {
    [ $# -ge 1 ] || die "usage: switch VERSION [--trial]"
    previous=$(current_version)
    point_current "$1"
    if [ "${2:-}" = "--trial" ] && [ -n "$previous" ] && [ "$previous" != "$1" ]; then
        echo "$1 $previous $(( $(date +%s) + TRIAL_S )) 0" > "$ROOT/trial.new"
        mv "$ROOT/trial.new" "$ROOT/trial"
    fi
    log "current -> $1${previous:+ (was $previous)}"
}

cmd_rollback() {
    reason=${1:-rolled back}
    [ -f "$ROOT/trial" ] || die "no update on trial"
    read -r version previous _deadline _starts < "$ROOT/trial"
    point_current "$previous"
    printf 'update_failed %s %s\n' "$version" "$reason" > "$ROOT/update-result.new"
    mv "$ROOT/update-result.new" "$ROOT/update-result"
    rm -f "$ROOT/trial"
    log "rolled back $version -> $previous: $reason"
}

# During a trial: roll back when too many starts or the deadline passed; else count a start.
check_trial() {
    [ -f "$ROOT/trial" ] || return 0
    read -r version previous deadline starts < "$ROOT/trial"
    if [ "$starts" -ge "$MAX_STARTS" ]; then
        cmd_rollback "crash loop: $version started $starts times without coming back"
    elif [ "$(date +%s)" -ge "$deadline" ]; then
        cmd_rollback "$version did not come back within ${TRIAL_S}s"
    else
        echo "$version $previous $deadline $((starts + 1))" > "$ROOT/trial.new"
        mv "$ROOT/trial.new" "$ROOT/trial"
    fi
}

cmd_run() {
    [ "${1:-}" != "--" ] || shift
    child=""
    stopping=""
    trap 'stopping=1; [ -z "$child" ] || kill -TERM "$child" 2>/dev/null || true' TERM INT
    export LOA_RELEASE_ROOT="$ROOT"
    while :; do
        check_trial
        "$ROOT/current/bin/python" -I -u -m agent "$@" &   # -I: never the caller's cwd or PYTHONPATH
        child=$!
        while [ -f "$ROOT/trial" ] && kill -0 "$child" 2>/dev/null && [ -z "$stopping" ]; do
            read -r _v _p deadline _s < "$ROOT/trial" 2>/dev/null || break
            if [ "$(date +%s)" -ge "$deadline" ]; then
                kill -TERM "$child" 2>/dev/null || true
                break
            fi
            sleep 1
        done
        rc=0
        wait "$child" || rc=$?
        while kill -0 "$child" 2>/dev/null; do wait "$child" || rc=$?; done  # after a signal
        child=""
        [ -z "$stopping" ] || exit 0
        if [ "$rc" -eq "$RESTART" ] || [ -f "$ROOT/trial" ]; then
            continue
        fi
        exit "$rc"
    done
}

cmd_status() {
    echo "current $(current_version)"
    if [ -f "$ROOT/trial" ]; then echo "trial $(cat "$ROOT/trial")"; fi
    if [ -f "$ROOT/update-result" ]; then cat "$ROOT/update-result"; fi
}

[ $# -ge 1 ] || die "usage: install|switch|run|rollback|status (see the header)"
command=$1; shift
case "$command" in
    install) cmd_install "$@" ;;
    switch) cmd_switch "$@" ;;
    run) cmd_run "$@" ;;
    rollback) cmd_rollback "$@" ;;
    status) cmd_status ;;
    *) die "unknown command $command" ;;
esac
