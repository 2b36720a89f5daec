"""A recording fake HTTP(S) server on 127.0.0.1 with an ephemeral port, and fault injection.

Subclasses implement `route(request) -> Reply`. Every request is recorded before routing, so tests can
assert on the wire (headers, query, body, paging). Faults are consumed in order, before routing:

    fake.fail_next(429, headers={"Retry-After": "3"})          # the next request only
    fake.fail_next(500, times=None, match=lambda r: r.param("page") == "2")   # until clear_faults()
    fake.malformed_next(match="/search/jql")                  # 200 with a truncated JSON body
"""

from __future__ import annotations

import json
import shutil
import ssl
import tempfile
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

Matcher = Callable[["RecordedRequest"], bool] | str | None


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]  # keys lower-cased
    body: bytes

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(self.body.decode()).items()}


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # A reply that stops half-way: the first `pause_at` bytes go out, then `pause()` blocks (a model that
    # stalls mid-stream, a platform that applied a call but has not answered yet), then the rest.
    pause_at: int | None = None
    pause: Callable[[], object] | None = None

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
        return cls(status, json.dumps(data).encode(), {"Content-Type": "application/json", **(headers or {})})


@dataclass
class _Fault:
    reply: Reply
    times: int | None  # None: until cleared
    match: Callable[[RecordedRequest], bool]
    skip: int  # matching requests to let through first


def _matcher(match: Matcher) -> Callable[[RecordedRequest], bool]:
    if match is None:
        return lambda request: True
    if isinstance(match, str):
        return lambda request: match in request.path
    return match


class _Server(ThreadingHTTPServer):
    # The default listen backlog of 5 resets connections when a load test opens hundreds at once.
    request_queue_size = 512


class FakeServer:
    """Start with `with FakeX() as fake:` or `fake.start()` / `fake.stop()`."""

    def __init__(self, *, tls: bool = False) -> None:
        self._tls = tls
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._faults: list[_Fault] = []
        self.errors: list[str] = []  # exceptions inside route(): a bug in the fake, not in the client
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._tls_dir: Path | None = None
        self.ca_file: str | None = None

    # -- lifecycle --

    def start(self) -> Self:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        if self._tls:
            self._tls_dir = Path(tempfile.mkdtemp(prefix="fake-tls-"))
            cert, key, self.ca_file = _write_certificates(self._tls_dir)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            server.socket = context.wrap_socket(server.socket, server_side=True)
        self._server = server
        # A short poll interval lets stop() return quickly: shutdown() waits for the loop to look up.
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, name=type(self).__name__, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._tls_dir is not None:
            shutil.rmtree(self._tls_dir, ignore_errors=True)
            self._tls_dir = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def origin(self) -> str:
        assert self._server is not None, "start() the fake first"
        scheme = "https" if self._tls else "http"
        return f"{scheme}://127.0.0.1:{self._server.server_address[1]}"

    # -- what tests use --

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, path_fragment: str, method: str | None = None) -> list[RecordedRequest]:
        return [
            r for r in self.requests if path_fragment in r.path and (method is None or r.method == method)
        ]

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def fail_next(
        self,
        status: int = 500,
        times: int | None = 1,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        *,
        match: Matcher = None,
        after: int = 0,
    ) -> None:
        """Answer the next `times` matching requests (after letting `after` through) with `status`."""
        reply = Reply(status, body if body is not None else self.error_body(status), dict(headers or {}))
        reply.headers.setdefault("Content-Type", "application/json")
        with self._lock:
            self._faults.append(_Fault(reply, times, _matcher(match), after))

    def malformed_next(self, times: int | None = 1, *, match: Matcher = None, after: int = 0) -> None:
        """A 200 whose JSON body is cut off mid-way, as a broken proxy or a crashed worker sends."""
        self.fail_next(200, times, body=b'{"value": [{"id": "1", "name": ', match=match, after=after)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    # -- for subclasses --

    def route(self, request: RecordedRequest) -> Reply:
        raise NotImplementedError

    def error_body(self, status: int) -> bytes:
        """The shape this service uses for errors; override per service."""
        return json.dumps({"error": {"code": str(status), "message": "injected fault"}}).encode()

    # -- internals --

    def _dispatch(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self._requests.append(request)
            fault = self._take_fault(request)
        if fault is not None:
            return fault
        try:
            return self.route(request)
        except Exception:
            self.errors.append(traceback.format_exc())
            return Reply.json({"error": {"code": "fakeBug", "message": "see fake.errors"}}, status=500)

    def _take_fault(self, request: RecordedRequest) -> Reply | None:
        for fault in self._faults:
            if not fault.match(request):
                continue
            if fault.skip > 0:
                fault.skip -= 1
                continue
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
            return Reply(fault.reply.status, fault.reply.body, dict(fault.reply.headers))
        return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as clients pool connections
    disable_nagle_algorithm = True  # headers and body go out in separate writes; no 40 ms ACK stalls

    def _handle(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = RecordedRequest(
            method=self.command,
            path=split.path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        reply = self.server.fake._dispatch(request)  # type: ignore[attr-defined]
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if self.command == "HEAD":
            return
        if reply.pause is not None:
            cut = reply.pause_at or 0
            self.wfile.write(reply.body[:cut])
            self.wfile.flush()
            reply.pause()
            self.wfile.write(reply.body[cut:])
        else:
            self.wfile.write(reply.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

    def log_message(self, format: str, *args: Any) -> None:
        pass  # tests assert on fake.requests, not on stderr


def _write_certificates(directory: Path) -> tuple[str, str, str]:
    """A throw-away CA and a server certificate for 127.0.0.1 (clients trust the CA via `ca_file`)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "skillmatch test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    cert_file, key_file, ca_file = directory / "server.pem", directory / "server.key", directory / "ca.pem"
    cert_file.write_bytes(cert.public_bytes(pem))
    key_file.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    ca_file.write_bytes(ca_cert.public_bytes(pem))
    return str(cert_file), str(key_file), str(ca_file)
