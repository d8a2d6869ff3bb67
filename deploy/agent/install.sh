#!/bin/sh
# Install the Loa xa village agent from its controller, enrol it, and start it.
#
#   curl -fsS --cacert ca.pem https://CONTROLLER/agent/install.sh \
#     | sudo sh -s -- --controller https://CONTROLLER --token-file /root/loa-token
#   ... | sudo sh -s -- --controller https://CONTROLLER --token - < /root/loa-token
#
# Options: --version V (default: the controller's), --player mpv|ffplay|aplay|null|tap,
#   --mqtt-host H, --mqtt-port P, --python PY (default python3), --cacert FILE,
#   --prefix DIR --no-systemd (sandbox: everything under DIR, no apt/useradd/systemd; tests),
#   --insecure (http:// controller: demo and tests only), --keep-tcp-timestamps (leave the
#   kernel's TCP timestamps on; by default they are turned off on the node: 12 bytes less in
#   every packet, ~1 MB a month of the idle bill, docs/weak-links.md).
#
# Chain of trust (docs/agent.md): the token pins the controller's signing key (and CA). This
# script fetches the CA and checks its pin, talks HTTPS to that CA only, picks the signing key
# whose SHA-256 is the pin, checks the manifest's Ed25519 signature with openssl, then the
# SHA-256 of every file against the manifest, and only then runs pip (--require-hashes) and
# the agent. Nothing downloaded runs before its hash is checked.
set -eu

CONTROLLER=""; TOKEN_FILE=""; INSECURE=""; MQTT_HOST=""; MQTT_PORT=""; VERSION=""
PLAYER="mpv"; PYTHON="python3"; CACERT=""; PREFIX="/opt/loa"; SYSTEMD=1
CONFIG=""; DATA_DIR=""; TCP_TIMESTAMPS=0

while [ $# -gt 0 ]; do
    case "$1" in
        --controller) CONTROLLER="$2"; shift 2 ;;
        --token-file) TOKEN_FILE="$2"; shift 2 ;;
        --token)
            [ "$2" = "-" ] || { echo "install.sh: --token takes '-' (stdin) only; use --token-file" >&2; exit 2; }
            TOKEN_FILE="-"; shift 2 ;;
        --insecure) INSECURE="--insecure"; shift ;;
        --mqtt-host) MQTT_HOST="$2"; shift 2 ;;
        --mqtt-port) MQTT_PORT="$2"; shift 2 ;;
        --version) VERSION="$2"; shift 2 ;;
        --player) PLAYER="$2"; shift 2 ;;
        --python) PYTHON="$2"; shift 2 ;;
        --cacert) CACERT="$2"; shift 2 ;;
        --prefix) PREFIX="$2"; shift 2 ;;
        --no-systemd) SYSTEMD=""; shift ;;
        --keep-tcp-timestamps) TCP_TIMESTAMPS=1; shift ;;
        -h|--help) sed -n '2,21p' "$0" 2>/dev/null || true; exit 0 ;;
        *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
    esac
done

die() { echo "install.sh: $*" >&2; exit 1; }
[ -n "$CONTROLLER" ] && [ -n "$TOKEN_FILE" ] || {
    echo "install.sh: needs --controller https://URL and --token-file FILE (or --token -)" >&2; exit 2; }
case "$CONTROLLER" in
    https://*) ;;
    http://*) [ -n "$INSECURE" ] || { echo "install.sh: refusing plain http:// (use https://)" >&2; exit 2; } ;;
    *) echo "install.sh: controller URL must start with https://" >&2; exit 2 ;;
esac
CONTROLLER=${CONTROLLER%/}
if [ -n "$SYSTEMD" ]; then
    [ "$(id -u)" -eq 0 ] || die "run as root (sudo), or use --prefix DIR --no-systemd"
    CONFIG="/etc/loa/agent.toml"; DATA_DIR="/var/lib/loa/agent"
else
    mkdir -p "$PREFIX"; PREFIX=$(cd "$PREFIX" && pwd)
    CONFIG="$PREFIX/etc/agent.toml"; DATA_DIR="$PREFIX/var/agent"
fi

umask 077
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
if [ "$TOKEN_FILE" = "-" ]; then
    head -c 400 > "$WORK/token"          # read stdin now: apt-get and pip must not swallow it
else
    head -c 400 "$TOKEN_FILE" > "$WORK/token" || die "cannot read $TOKEN_FILE"
fi
umask 022

if [ -n "$SYSTEMD" ]; then
    echo "==> system packages"
    case "$PLAYER" in mpv) PKG=mpv ;; ffplay) PKG=ffmpeg ;; *) PKG="" ;; esac
    apt-get update -qq
    # shellcheck disable=SC2086  # PKG may be empty on purpose
    apt-get install -y -qq python3-venv curl openssl alsa-utils ca-certificates $PKG
    apt-get install -y -qq python3-gpiozero 2>/dev/null || true
fi
command -v openssl >/dev/null || die "openssl is needed to check the manifest signature"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "$PYTHON is older than 3.11"

# Helpers in the stdlib only: nothing from the controller runs before it is verified.
cat > "$WORK/trust.py" <<'PY'
import base64, hashlib, json, re, sys
def b64url(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
def canonical(o): return json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
cmd, args = sys.argv[1], sys.argv[2:]
if cmd == "pins":  # token -> "key_pin ca_pin|-"
    parts = open(args[0]).read().strip().split(".")
    if parts[0] != "loa1" or len(parts) not in (4, 5): sys.exit("not a Loa enrolment token")
    print(parts[3], parts[4] if len(parts) == 5 else "-")
elif cmd == "ca-pin":  # PEM -> pin of its first certificate
    m = re.search(r"-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----", open(args[0]).read(), re.S)
    if not m: sys.exit("no certificate")
    print(b64url(hashlib.sha256(base64.b64decode("".join(m.group(1).split()))).digest()))
elif cmd == "pinned-key":  # signing-keys JSON, pin, out.pem: the key whose SHA-256 is the pin
    for k in json.load(open(args[0])).get("keys", []):
        raw = base64.b64decode(k)
        if len(raw) == 32 and b64url(hashlib.sha256(raw).digest()) == args[1]:
            der = bytes.fromhex("302a300506032b6570032100") + raw
            pem = "-----BEGIN PUBLIC KEY-----\n%s\n-----END PUBLIC KEY-----\n" % base64.b64encode(der).decode()
            open(args[2], "w").write(pem); sys.exit(0)
    sys.exit("the controller's signing key does not match the pin in the token")
elif cmd == "split":  # envelope -> payload bytes (canonical) + signature bytes
    env = json.load(open(args[0], encoding="utf-8"))
    open(args[1], "wb").write(canonical(env["payload"]))
    open(args[2], "wb").write(base64.b64decode(env["sig"]))
elif cmd == "files":  # verified payload -> "version", then "role path name sha256" lines
    m = json.load(open(args[0], encoding="utf-8"))
    if args[1] and m["version"] != args[1]: sys.exit("manifest is for %s, not %s" % (m["version"], args[1]))
    print(m["version"])
    for f in m["files"]:
        for v in (f["path"], f["name"]):
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._+/-]*", v) or ".." in v: sys.exit("bad file name")
        print(f["role"], f["path"], f["name"], f["sha256"])
elif cmd == "sha256":
    h = hashlib.sha256()
    with open(args[0], "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""): h.update(chunk)
    print(h.hexdigest())
PY
trust() { "$PYTHON" -I "$WORK/trust.py" "$@"; }

PINS=$(trust pins "$WORK/token") || die "bad enrolment token"
KEY_PIN=${PINS% *}; CA_PIN=${PINS#* }
CURL="curl -fsS --retry 3 --max-time 300"
case "$CONTROLLER" in
    https://*)
        if [ "$CA_PIN" != "-" ]; then
            echo "==> controller CA (pinned by the token)"
            curl -fsS -k --max-time 60 "$CONTROLLER/api/v1/enrol/ca.pem" -o "$WORK/ca.pem" \
                || die "cannot fetch the controller's CA"
            [ "$(trust ca-pin "$WORK/ca.pem")" = "$CA_PIN" ] \
                || die "the controller's CA does not match the pin in the token: refusing"
            CURL="$CURL --cacert $WORK/ca.pem"
        elif [ -n "$CACERT" ]; then
            CURL="$CURL --cacert $CACERT"
        fi ;;
esac

echo "==> signed manifest"
$CURL "$CONTROLLER/api/v1/signing-keys" -o "$WORK/keys.json" || die "cannot fetch signing keys"
trust pinned-key "$WORK/keys.json" "$KEY_PIN" "$WORK/key.pem" || die "signing key refused"
MANIFEST_URL="$CONTROLLER/agent/manifest.json"
[ -z "$VERSION" ] || MANIFEST_URL="$CONTROLLER/agent/$VERSION/manifest.json"
$CURL "$MANIFEST_URL" -o "$WORK/manifest.json" || die "cannot fetch $MANIFEST_URL"
trust split "$WORK/manifest.json" "$WORK/payload" "$WORK/sig" || die "malformed manifest"
openssl pkeyutl -verify -pubin -inkey "$WORK/key.pem" -rawin -in "$WORK/payload" \
    -sigfile "$WORK/sig" >/dev/null 2>&1 || die "the manifest's signature does not verify: refusing"
trust files "$WORK/payload" "$VERSION" > "$WORK/files" || die "bad manifest"
VERSION=$(head -n 1 "$WORK/files")

echo "==> agent $VERSION: downloading and checking every file"
mkdir -p "$WORK/dist/wheels"
tail -n +2 "$WORK/files" > "$WORK/list"
while read -r role path name sha; do
    case "$role" in wheel) out="$WORK/dist/wheels/$name" ;; *) out="$WORK/dist/$name" ;; esac
    $CURL "$CONTROLLER/agent/$path" -o "$out" || die "cannot fetch $path"
    [ "$(trust sha256 "$out")" = "$sha" ] || die "$name does not match the signed manifest: refusing"
done < "$WORK/list"

echo "==> release $VERSION in $PREFIX/releases"
mkdir -p "$PREFIX/bin"
install -m 0755 "$WORK/dist/loa-release.sh" "$PREFIX/bin/loa-release"
SITE=""
[ -z "$SYSTEMD" ] || SITE="--system-site-packages"    # apt's python3-gpiozero stays importable
LOA_ROOT="$PREFIX" "$PREFIX/bin/loa-release" install "$WORK/dist" "$VERSION" "$PYTHON" $SITE
LOA_ROOT="$PREFIX" "$PREFIX/bin/loa-release" switch "$VERSION"

if [ -n "$SYSTEMD" ]; then
    id loa >/dev/null 2>&1 || useradd --system --home-dir /var/lib/loa --shell /usr/sbin/nologin loa
    usermod -a -G audio loa
    if getent group gpio >/dev/null; then usermod -a -G gpio loa; fi
    install -d -m 0750 -o loa -g loa /var/lib/loa /var/lib/loa/agent
    install -d -m 0750 -o root -g loa /etc/loa
else
    mkdir -p "$(dirname "$CONFIG")" "$DATA_DIR"
fi

echo "==> enrolling with $CONTROLLER (pinned CA and signing key from the token)"
set -- --enrol --token-file "$WORK/token" --controller "$CONTROLLER" --write "$CONFIG"
[ -z "$INSECURE" ] || set -- "$@" --insecure
[ -z "$MQTT_HOST" ] || set -- "$@" --mqtt-host "$MQTT_HOST"
[ -z "$MQTT_PORT" ] || set -- "$@" --mqtt-port "$MQTT_PORT"
"$PREFIX/current/bin/python" -I -m agent "$@" || die "enrolment failed"
grep -q '^player' "$CONFIG" || echo "player = \"$PLAYER\"" >> "$CONFIG"
sed -i '/^data_dir *=/d' "$CONFIG"
echo "data_dir = \"$DATA_DIR\"" >> "$CONFIG"
chmod 0600 "$CONFIG"   # holds the broker password
if [ -n "$SYSTEMD" ]; then
    chown loa:loa "$CONFIG"
    CA_FILE="$(dirname "$CONFIG")/controller-ca.pem"
    if [ -f "$CA_FILE" ]; then chown loa:loa "$CA_FILE"; fi
    chown -R loa:loa "$PREFIX/releases"   # the agent installs its own updates
    chown loa:loa "$PREFIX"
    if [ -f "$WORK/dist/timesync.sh" ]; then   # clock sync: neighbours must not echo
        sh "$WORK/dist/timesync.sh" "${LOA_NTP_SERVER:-}"
    fi
    # a dedicated node on a paid link: no TCP timestamp option (40-byte instead of 52-byte
    # headers; both ends drop it when the node's SYN lacks it). What it gives up - PAWS and
    # per-ACK RTT samples - matters on fast links, not at ~100 kbit/s (docs/weak-links.md)
    echo "# Loa xa agent (install.sh): fewer header bytes on a paid mobile link" \
        > /etc/sysctl.d/60-loa-agent.conf
    echo "net.ipv4.tcp_timestamps = $TCP_TIMESTAMPS" >> /etc/sysctl.d/60-loa-agent.conf
    sysctl -q -p /etc/sysctl.d/60-loa-agent.conf || echo "install.sh: sysctl not applied" >&2
    echo "==> systemd unit"
    install -m 0644 "$WORK/dist/loa-agent.service" /etc/systemd/system/loa-agent.service
    systemctl daemon-reload
    systemctl enable --now loa-agent.service
    systemctl --no-pager --lines=5 status loa-agent.service || true
    echo "==> done: journalctl -u loa-agent -f"
else
    echo "==> installed (no systemd). Run the agent with:"
    echo "LOA_ROOT=$PREFIX $PREFIX/bin/loa-release run -- --config $CONFIG"
fi
