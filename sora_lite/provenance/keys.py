"""Per-instance signing material: the C2PA certificate chain and the watermark's instance tag.

On first use an EC P-256 root CA and a signer certificate (the two-level chain c2pa-python 0.38 accepts
offline, see FACTS.md) are created under `$SORA_LITE_HOME/keys/` (the instance home: see `sora_lite.store.db.home_dir`) with 0600
permissions — outside the repository, so keys are never committed. An operator can supply their own PEMs
through `SORA_LITE_C2PA_CERT` (chain: signer first) and `SORA_LITE_C2PA_KEY`. Private keys are only ever
handed to the signer: never logged, never put in a record, never in `repr`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from sora_lite.store.db import home_dir

CERT_ENV = "SORA_LITE_C2PA_CERT"
KEY_ENV = "SORA_LITE_C2PA_KEY"


class SigningKeyError(Exception):
    """Signing material that cannot be used; the message says which file and what to do."""


@dataclass(frozen=True)
class SigningMaterial:
    """What the C2PA signer needs. `private_key_pem` is excluded from repr so it cannot leak into logs."""

    cert_chain_pem: bytes
    private_key_pem: bytes = field(repr=False)
    source: str  # "generated" or "operator"


def keys_dir() -> Path:
    """Keys live in the instance's home folder (the same one the database and clips use), never in the repo."""
    return home_dir() / "keys"


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(path, 0o600)


def signing_material() -> SigningMaterial:
    """The operator's PEMs if both env vars are set, else this instance's own (created on first use)."""
    cert_env, key_env = os.environ.get(CERT_ENV), os.environ.get(KEY_ENV)
    if cert_env or key_env:
        if not (cert_env and key_env):
            raise SigningKeyError(f"set both {CERT_ENV} (certificate chain PEM) and {KEY_ENV} (private key PEM), or neither")
        cert_path, key_path = Path(cert_env).expanduser(), Path(key_env).expanduser()
        for name, path in ((CERT_ENV, cert_path), (KEY_ENV, key_path)):
            if not path.is_file():
                raise SigningKeyError(f"{name} points to {path}, which is not a readable file")
        key_pem = _as_pkcs8(key_path.read_bytes(), key_path)
        return SigningMaterial(cert_path.read_bytes(), key_pem, "operator")
    directory = keys_dir()
    chain, key = directory / "c2pa_chain.pem", directory / "c2pa_signer.key"
    if not (chain.is_file() and key.is_file()):
        _generate(directory)
    return SigningMaterial(chain.read_bytes(), key.read_bytes(), "generated")


def _as_pkcs8(pem: bytes, path: Path) -> bytes:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(f"{path} is not an unencrypted PEM private key ({exc.__class__.__name__})") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise SigningKeyError(f"{path} must hold an EC P-256 key (C2PA es256)")
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _generate(directory: Path) -> None:
    """Create root CA + signer certificate (10-year root, 5-year signer) for this instance."""
    now = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
    instance = secrets.token_hex(4)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sora-lite instance"),
        x509.NameAttribute(NameOID.COMMON_NAME, f"sora-lite root {instance}"),
    ])
    root_ski = x509.SubjectKeyIdentifier.from_public_key(root_key.public_key())
    root = (
        x509.CertificateBuilder().subject_name(root_name).issuer_name(root_name)
        .public_key(root_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(root_ski, critical=False)
        .sign(root_key, hashes.SHA256())
    )
    signer_key = ec.generate_private_key(ec.SECP256R1())
    signer_name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sora-lite instance"),
        x509.NameAttribute(NameOID.COMMON_NAME, f"sora-lite signer {instance}"),
    ])
    signer = (
        x509.CertificateBuilder().subject_name(signer_name).issuer_name(root_name)
        .public_key(signer_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + dt.timedelta(days=1825))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(signer_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(root_ski), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    pkcs8 = serialization.PrivateFormat.PKCS8
    none = serialization.NoEncryption()
    _write_private(directory / "c2pa_root.key", root_key.private_bytes(pem, pkcs8, none))
    _write_private(directory / "c2pa_signer.key", signer_key.private_bytes(pem, pkcs8, none))
    _write_private(directory / "c2pa_chain.pem", signer.public_bytes(pem) + root.public_bytes(pem))
    (directory / "c2pa_root.pem").write_bytes(root.public_bytes(pem))


def watermark_secret() -> bytes:
    """This instance's watermark secret (32 random bytes, created on first use, 0600)."""
    path = keys_dir() / "watermark.key"
    if not path.is_file():
        _write_private(path, secrets.token_bytes(32))
    data = path.read_bytes()
    if len(data) < 16:
        raise SigningKeyError(f"{path} is damaged (expected 32 bytes); delete it to make a new one")
    return data


def instance_tag() -> bytes:
    """The 2-byte tag this instance puts in every watermark, derived from its secret."""
    return hashlib.sha256(b"instance-tag:" + watermark_secret()).digest()[:2]
