"""A self-made CA and server certificates for MQTT (8883) and HTTPS, with ``cryptography``.

    python deploy/tls/make_ca.py OUT_DIR broker.loa.example 10.0.0.5 [more names/IPs...]

writes ``ca.pem`` / ``ca.key`` (keep offline), ``server.pem`` / ``server.key`` (0600) for
every name and IP given. Agents and the controller trust ``ca.pem`` (``mqtt_tls_ca``);
uvicorn and Mosquitto serve ``server.pem`` + ``server.key``. See deploy/tls/README.md.
"""

from __future__ import annotations

import ipaddress
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from protocol.private_file import write_private


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write_secret(path: Path, data: bytes) -> None:
    write_private(path, data)  # 0600 even when an older, looser file is there


def _san(names: list[str]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


def make_ca(out: Path, names: list[str], days: int = 825) -> tuple[Path, Path, Path]:
    """Create the CA and one server certificate for ``names``; return (ca, cert, key)."""
    out.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Loa xa private CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(_san(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, cert_path, key_path = out / "ca.pem", out / "server.pem", out / "server.key"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    _write_secret(out / "ca.key", _key_pem(ca_key))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_secret(key_path, _key_pem(key))
    return ca_path, cert_path, key_path


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    make_ca(Path(sys.argv[1]), sys.argv[2:])
