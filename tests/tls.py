"""Self-signed TLS certificates for test servers on loopback, made with the openssl CLI.

    certificate = make_certificate(tmp_path / "server")
    server_side = certificate.server_context()   # for aiosmtpd, or any test server
    client_side = certificate.client_context()   # trusts this certificate and nothing else

`certificate.cert_path` is also what a subprocess trusts through SSL_CERT_FILE
(Python's ssl.create_default_context reads it).
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class SelfSignedCertificate:
    """A certificate (its own issuer) and its private key, as PEM files."""

    cert_path: Path
    key_path: Path

    def server_context(self) -> ssl.SSLContext:
        """What a TLS server presents: this certificate, no client certificates asked."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_path, self.key_path)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A client that verifies the server and trusts only this certificate."""
        return ssl.create_default_context(cafile=str(self.cert_path))


def write_self_signed_certificate(
    cert_path: Path, key_path: Path, *, host: str = LOOPBACK, days: int = 2
) -> SelfSignedCertificate:
    """Write a new key and a self-signed certificate for the IP address `host`."""
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
            "-keyout", str(key_path), "-out", str(cert_path),
            "-days", str(days), "-subj", f"/CN={host}",
            "-addext", f"subjectAltName=IP:{host}",
        ],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return SelfSignedCertificate(cert_path=cert_path, key_path=key_path)


def make_certificate(directory: Path, *, host: str = LOOPBACK) -> SelfSignedCertificate:
    """A fresh certificate in `directory`; skip without openssl (a failure under CI)."""
    from tests.services import service_missing

    if shutil.which("openssl") is None:
        service_missing("the openssl command is not installed (it makes the test certificates)")
    directory.mkdir(parents=True, exist_ok=True)
    return write_self_signed_certificate(directory / "cert.pem", directory / "key.pem", host=host)
