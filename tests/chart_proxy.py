"""Percona's chart repository URL (https://percona.github.io/percona-helm-charts/), answered on
this machine from the vendored packages: an HTTPS proxy on 127.0.0.1 that accepts CONNECT only
to percona.github.io:443 and answers it itself, with a certificate for that name from a CA made
here. A program that honours HTTPS_PROXY and SSL_CERT_FILE (Go's net/http and crypto/x509 do;
so does upstream's program, through the Kubernetes provider's Helm) then downloads the real
packages, unmodified, from its compiled-in URL. Nothing else is proxied; no other host is dialled.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from localcluster._pki import make_authority

HOST = "percona.github.io"
PREFIX = "/percona-helm-charts/"
URL = f"https://{HOST}{PREFIX}"


@dataclass
class ChartProxy:
    url: str
    ca: Path
    # "GET /percona-helm-charts/index.yaml" for each request answered, and "CONNECT host" for
    # each tunnel refused.
    requests: list[str] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        """For the processes that should reach Percona's URL through it. Loopback (the API
        server) never goes through a proxy: Go never proxies it; NO_PROXY says so for others."""
        return {
            "HTTPS_PROXY": self.url,
            "https_proxy": self.url,
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "SSL_CERT_FILE": str(self.ca),
        }


def _certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA of its own and a serving certificate for Percona's host, signed by it."""
    authority = make_authority(folder, "percona-pg-operator chart proxy CA")
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    cert, key = authority.issue(
        "server", subject, ExtendedKeyUsageOID.SERVER_AUTH, [x509.DNSName(HOST)]
    )
    return folder / "ca.crt", cert, key


@contextmanager
def serve(root: Path, folder: Path) -> Iterator[ChartProxy]:
    """Answer Percona's repository URL from the packages in ``root`` (index.yaml and the
    ``.tgz`` files it lists by relative URL)."""
    ca, cert, key = _certificates(folder)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    proxy = ChartProxy(url="", ca=ca)
    lock = threading.Lock()

    class Repository(BaseHTTPRequestHandler):
        """The requests inside a tunnel: Percona's repository."""

        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            with lock:
                proxy.requests.append(f"GET {path}")
            name = path.removeprefix(PREFIX)
            file = root / name
            ok = path.startswith(PREFIX) and "/" not in name and file.is_file()
            body = file.read_bytes() if ok else b""
            self.send_response(200 if ok else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    class Tunnel(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_CONNECT(self) -> None:
            if self.path != f"{HOST}:443":
                with lock:
                    proxy.requests.append(f"CONNECT {self.path}")
                self.send_response(403)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.end_headers()
            self.wfile.flush()
            try:
                wrapped = tls.wrap_socket(self.connection, server_side=True)
            except (ssl.SSLError, OSError):
                self.close_connection = True
                return
            Repository(wrapped, self.client_address, self.server)
            self.close_connection = True

    server = ThreadingHTTPServer(("127.0.0.1", 0), Tunnel)
    server.daemon_threads = True
    proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
