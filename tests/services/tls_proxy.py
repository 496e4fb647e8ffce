"""A TLS-terminating nginx in front of the test Elasticsearch node, requiring client certificates.

Stage: test harness only. Why nginx and not TLS on the node itself: the node runs with security
off so every other test can talk plain HTTP to it; a proxy adds HTTPS + mutual TLS for the tests
that need it without restarting (or duplicating) the 10-40 s node. nginx comes from Debian
(`scripts/bootstrap --dev` installs nginx-light).

Certificates are generated here with `cryptography` (a throw-away PKI per session): a CA that
signs the server certificate (SAN 127.0.0.1 and localhost) and one client certificate, plus a
second, unrelated CA with its own client certificate for the "wrong CA" case.

nginx runs in the foreground (`daemon off`) as a child of the test process; its config, pid file,
logs and temp dirs live in one directory. Started as root its workers run as `nobody`
(`user root` would also do in a test, but there is no need).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.services.process import (
    Service,
    ServiceStartError,
    free_tcp_port,
    tail_lines,
    terminate_pid,
    wait_until,
)

_START_TIMEOUT_S = 15.0
_STOP_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class CertPair:
    """A PEM certificate and its PEM private key on disk."""

    cert: Path
    key: Path


@dataclass(frozen=True, slots=True)
class Pki:
    """Everything a TLS test needs: the trusted CA, server and client pairs, a foreign client."""

    ca_cert: Path
    server: CertPair
    client: CertPair
    other_ca_cert: Path
    other_client: CertPair
    """Signed by a CA the proxy does not trust."""


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def _validity(builder: x509.CertificateBuilder) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return builder.not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(
        now + datetime.timedelta(days=2)
    )


def _make_ca(
    common_name: str, directory: Path
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        _validity(x509.CertificateBuilder())
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    path = directory / f"{common_name}.crt"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, cert, path


def _issue(
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    common_name: str,
    directory: Path,
    *,
    server: bool,
) -> CertPair:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        _validity(x509.CertificateBuilder())
        .subject_name(_name(common_name))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
    cert = builder.sign(ca_key, hashes.SHA256())
    pair = CertPair(directory / f"{common_name}.crt", directory / f"{common_name}.key")
    pair.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(key, pair.key)
    return pair


def make_pki(directory: Path) -> Pki:
    """Generate a throw-away PKI under ``directory``.

    Returns:
        Paths of the trusted CA, the server and client pairs, and a client of another CA.
    """
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert, ca_path = _make_ca("recall-test-ca", directory)
    other_key, other_cert, other_path = _make_ca("recall-other-ca", directory)
    return Pki(
        ca_cert=ca_path,
        server=_issue(ca_key, ca_cert, "recall-proxy", directory, server=True),
        client=_issue(ca_key, ca_cert, "recall-client", directory, server=False),
        other_ca_cert=other_path,
        other_client=_issue(other_key, other_cert, "recall-intruder", directory, server=False),
    )


def nginx_binary() -> str:
    """Return the nginx executable (also looked up in /usr/sbin, often off a user's PATH).

    Raises:
        ServiceStartError: nginx is not installed.
    """
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        raise ServiceStartError("nginx not found: run scripts/bootstrap --dev (nginx-light)")
    return found


class TlsProxy(Service):
    """nginx terminating HTTPS with mandatory client certificates, proxying to ``upstream``."""

    def __init__(self, upstream: str, directory: Path, pki: Pki) -> None:
        """Prepare (not start) the proxy.

        Args:
            upstream: Plain HTTP URL of the Elasticsearch node.
            directory: Private directory for config, pid file, logs and temp files.
            pki: Certificates; the proxy trusts ``pki.ca_cert`` for client certificates.
        """
        self.upstream = upstream.rstrip("/")
        self.directory = directory
        self.pki = pki
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The HTTPS URL clients use."""
        return f"https://127.0.0.1:{self.port}"

    @property
    def error_log(self) -> Path:
        """nginx's error log (handshake failures are reported here)."""
        return self.directory / "error.log"

    def _config(self) -> str:
        d = self.directory
        user = "user nobody nogroup;" if os.geteuid() == 0 else ""
        return f"""
{user}
worker_processes 1;
daemon off;
pid {d / "nginx.pid"};
error_log {self.error_log} info;
events {{ worker_connections 64; }}
http {{
    access_log {d / "access.log"};
    client_body_temp_path {d / "client_body"};
    proxy_temp_path {d / "proxy"};
    fastcgi_temp_path {d / "fastcgi"};
    uwsgi_temp_path {d / "uwsgi"};
    scgi_temp_path {d / "scgi"};
    client_max_body_size 100m;
    server {{
        listen 127.0.0.1:{self.port} ssl;
        ssl_certificate {self.pki.server.cert};
        ssl_certificate_key {self.pki.server.key};
        ssl_client_certificate {self.pki.ca_cert};
        ssl_verify_client on;
        ssl_protocols TLSv1.2 TLSv1.3;
        location / {{
            proxy_pass {self.upstream};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_request_buffering off;
        }}
    }}
}}
"""

    def start(self) -> None:
        """Write the config, start nginx and wait until its port accepts TLS connections.

        Raises:
            ServiceStartError: nginx exited or did not listen in time (message has its log).
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        # Workers running as nobody must read the certificates and write temp files.
        self.directory.chmod(0o755)
        self.port = free_tcp_port()
        conf = self.directory / "nginx.conf"
        conf.write_text(self._config())
        binary = nginx_binary()
        check = subprocess.run(
            [binary, "-t", "-q", "-p", str(self.directory), "-c", str(conf)],
            capture_output=True,
            check=False,
        )
        if check.returncode != 0:
            detail = check.stderr.decode(errors="replace")
            raise ServiceStartError(f"nginx config rejected: {detail}")
        log = (self.directory / "stderr.log").open("ab")
        self._process = subprocess.Popen(
            [binary, "-p", str(self.directory), "-c", str(conf)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        process = self._process

        def listening() -> bool:
            with socket.socket() as sock:
                sock.settimeout(0.5)
                return sock.connect_ex(("127.0.0.1", self.port)) == 0

        try:
            wait_until(
                listening,
                timeout_s=_START_TIMEOUT_S,
                still_starting=lambda: process.poll() is None,
                what="nginx TLS proxy",
            )
        except ServiceStartError as error:
            self.stop()
            raise ServiceStartError(
                f"{error}: {tail_lines(self.directory / 'stderr.log', 20)}\n"
                f"{tail_lines(self.error_log, 20)}"
            ) from error

    def stop(self) -> None:
        """Stop nginx (SIGTERM, then SIGKILL) and reap it; safe to call twice."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            terminate_pid(process.pid, timeout_s=_STOP_TIMEOUT_S)
        try:
            process.wait(timeout=_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=_STOP_TIMEOUT_S)

    def close(self) -> None:
        """Same as `stop()`: the proxy owns nothing beyond its process."""
        self.stop()
