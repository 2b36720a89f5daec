"""What the remote sources share: HTTP with bounded retries and clear errors, resumable cursors, run records.

Errors are one line a user can act on and never contain a credential: URLs are shown without their query
string (pre-authenticated download links carry tokens there) and headers are never echoed.
"""

from __future__ import annotations

import json
import logging
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx2
from sqlalchemy.orm import Session, sessionmaker
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from skillmatch.config import Settings
from skillmatch.db import session_scope
from skillmatch.ingest.report import IngestReport
from skillmatch.models import IngestRun, SyncState, utcnow

log = logging.getLogger(__name__)

WaitFn = Callable[[float], None]
# (label, items done so far, total if the source says) — called after every page.
ProgressFn = Callable[[str, int, int | None], None]

BASE_BACKOFF_SECONDS = 1.0
USER_AGENT = "skillmatch-ingest/0.1"


def no_progress(label: str, done: int, total: int | None) -> None:
    """The default progress callback: the library stays quiet, the CLI draws bars."""


# --- errors ----------------------------------------------------------------------------------------


class SourceError(Exception):
    """A remote source stopped the run. The message starts with the source name."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source


class SourceConfigError(SourceError):
    """Settings are missing or contradictory; nothing was contacted."""


class SourceAuthError(SourceError):
    """401/403 or a refused token: retrying cannot help, the credentials or permissions must change."""

    def __init__(self, source: str, message: str, *, status: int | None = None) -> None:
        super().__init__(source, message)
        self.status = status  # 401 (who we are) or 403 (what we may do), when the API said so


class SourceDataError(SourceError):
    """The source answered, but not with what its API promises (malformed JSON, wrong shape)."""


class SourceUnavailableError(SourceError):
    """Connection failures, 5xx or 429 that outlasted every retry."""


class SourceStatusError(SourceError):
    """Any other 4xx; `code` is the error code from the body when the API gives one (e.g. Graph's)."""

    def __init__(self, source: str, message: str, *, status: int, code: str | None) -> None:
        super().__init__(source, message)
        self.status = status
        self.code = code


class _Transient(Exception):
    """Internal: a failure worth another attempt, with the server's Retry-After if it sent one."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


# --- helpers -----------------------------------------------------------------------------------------


def describe(url: httpx2.URL | str) -> str:
    """A URL fit for messages and logs: no query string, no userinfo."""
    parsed = httpx2.URL(str(url))
    return str(parsed.copy_with(query=None, fragment=None, username=None, password=None))


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Retry-After is either delay-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def server_time(response: httpx2.Response) -> datetime:
    """The server's clock from the Date header, so sync watermarks never depend on ours."""
    try:
        when = parsedate_to_datetime(response.headers.get("date", ""))
        return when if when.tzinfo else when.replace(tzinfo=UTC)
    except (TypeError, ValueError):
        return datetime.now(UTC)


def parse_datetime(value: Any) -> datetime | None:
    """ISO 8601 as the APIs send it (`Z`, `+0100`, `+01:00`), normalised to UTC for storage."""
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _error_code(response: httpx2.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("code"), str):
            return error["code"]
        if isinstance(error, str):
            return error
    return None


def _body_hint(response: httpx2.Response, limit: int = 200) -> str:
    text = " ".join(response.text.split())
    return text[:limit] + ("…" if len(text) > limit else "")


class _RedactQueryFilter(logging.Filter):
    """httpx2 logs every request URL at INFO; download URLs carry short-lived credentials in the query."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) > 1 and isinstance(record.args[1], httpx2.URL):
            record.args = (record.args[0], describe(record.args[1]), *record.args[2:])
        return True


_httpx_logger = logging.getLogger("httpx2")
if not any(isinstance(f, _RedactQueryFilter) for f in _httpx_logger.filters):
    _httpx_logger.addFilter(_RedactQueryFilter())
# httpcore2's DEBUG trace prints raw response headers, and a Graph redirect's Location is a pre-signed
# download URL. Unless someone configured that logger on purpose, keep its trace off.
if logging.getLogger("httpcore2").level == logging.NOTSET:
    logging.getLogger("httpcore2").setLevel(logging.INFO)


def ssl_verify(settings: Settings) -> ssl.SSLContext | bool:
    if settings.http_ca_bundle:
        return ssl.create_default_context(cafile=settings.http_ca_bundle)
    return True


# --- the client ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JsonResponse:
    data: Any
    response: httpx2.Response

    @property
    def headers(self) -> httpx2.Headers:
        return self.response.headers

    def next_link(self) -> str | None:
        link = self.response.links.get("next")
        return link.get("url") if link else None


class SourceClient:
    """One remote source's HTTP: auth, timeouts and the retry policy; errors become `SourceError`s.

    `wait` is what sleeps between attempts; tests pass a recorder so nothing really sleeps.
    """

    def __init__(
        self,
        source: str,
        settings: Settings,
        *,
        auth: httpx2.Auth | None = None,
        auth_hint: str = "",
        wait: WaitFn | None = None,
        transport: httpx2.BaseTransport | None = None,
    ) -> None:
        self.source = source
        self._settings = settings
        self._auth_hint = auth_hint
        self._wait = wait if wait is not None else time.sleep
        self._client = httpx2.Client(
            auth=auth,
            timeout=settings.http_timeout_seconds,
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
            verify=ssl_verify(settings),
            transport=transport,
        )

    def __enter__(self) -> SourceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def get_json(self, url: str, *, params: Mapping[str, Any] | None = None) -> JsonResponse:
        response = self._send("GET", url, params=params)
        return JsonResponse(self._decode(response), response)

    def post_json(self, url: str, *, body: Any, repeatable: bool = True) -> JsonResponse:
        """`repeatable=False` for a POST that creates something (a comment): after a 5xx or a dropped
        connection it may have taken effect, so it is not sent again; only 429s and refused connections
        (never processed) are retried."""
        response = self._send("POST", url, json=body, repeatable=repeatable)
        return JsonResponse(self._decode(response), response)

    def put_json(self, url: str, *, body: Any) -> JsonResponse:
        """PUT replaces, so retrying is safe. Some APIs answer with an empty body (data is then None)."""
        response = self._send("PUT", url, json=body)
        return JsonResponse(self._decode(response) if response.content else None, response)

    def get_bytes(self, url: str) -> bytes:
        """Downloads follow one redirect by hand and WITHOUT our credentials: Graph redirects to a
        pre-authenticated URL on another host, which must not see the bearer token."""
        response = self._send("GET", url, headers={"Accept": "*/*"})
        if response.is_redirect and "location" in response.headers:
            target = response.next_request.url if response.next_request else response.headers["location"]
            response = self._send("GET", str(target), headers={"Accept": "*/*"}, auth=None)
            if response.is_redirect:
                raise SourceDataError(self.source, f"too many redirects downloading {describe(url)}")
        return response.content

    # -- internals --

    def _decode(self, response: httpx2.Response) -> Any:
        where = f"{response.request.method} {describe(response.request.url)}"
        if (
            response.is_redirect
        ):  # APIs answer in place; a redirect means a wrong base URL (http vs https, ...)
            target = describe(response.headers.get("location", "?"))
            message = f"{where} redirected to {target}; check the configured base URL"
            raise SourceStatusError(self.source, message, status=response.status_code, code=None)
        try:
            return response.json()
        except ValueError as exc:
            raise SourceDataError(self.source, f"malformed JSON from {where} ({exc})") from exc

    def _send(self, method: str, url: str, *, repeatable: bool = True, **kwargs: Any) -> httpx2.Response:
        retrying = Retrying(
            stop=stop_after_attempt(max(0, self._settings.http_max_retries) + 1),
            wait=self._backoff,
            retry=retry_if_exception_type(_Transient),
            sleep=self._wait,
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._attempt(method, url, repeatable=repeatable, **kwargs)
        except _Transient as exc:
            attempts = max(0, self._settings.http_max_retries) + 1
            raise SourceUnavailableError(self.source, f"{exc} (gave up after {attempts} attempts)") from exc
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    def _attempt(self, method: str, url: str, *, repeatable: bool = True, **kwargs: Any) -> httpx2.Response:
        where = f"{method} {describe(url)}"
        try:
            response = self._client.request(method, url, **kwargs)
        except httpx2.TransportError as exc:
            if not repeatable and not isinstance(exc, httpx2.ConnectError | httpx2.ConnectTimeout):
                raise SourceUnavailableError(
                    self.source, f"{where} failed ({type(exc).__name__}); may have taken effect; not repeated"
                ) from exc
            raise _Transient(f"could not reach {where} ({type(exc).__name__})") from exc
        status = response.status_code
        if status >= 500 and not repeatable:
            raise SourceUnavailableError(
                self.source, f"HTTP {status} from {where}; may have taken effect; not repeated"
            )
        if status == 429 or status >= 500:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            raise _Transient(f"HTTP {status} from {where}", retry_after)
        if status in (401, 403):
            hint = f"; {self._auth_hint}" if self._auth_hint else ""
            message = f"access denied (HTTP {status}) at {where}{hint}"
            raise SourceAuthError(self.source, message, status=status)
        if status >= 400:
            raise SourceStatusError(
                self.source,
                f"HTTP {status} from {where}: {_body_hint(response)}",
                status=status,
                code=_error_code(response),
            )
        return response

    def _backoff(self, state: RetryCallState) -> float:
        cap = self._settings.http_max_backoff_seconds
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Transient) and exc.retry_after is not None:
            return min(exc.retry_after, cap)
        return min(cap, BASE_BACKOFF_SECONDS * 2 ** (state.attempt_number - 1))

    def _log_retry(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        delay = state.upcoming_sleep
        log.warning("%s: %s; retrying in %.1fs (attempt %d)", self.source, exc, delay, state.attempt_number)


class HeaderAuth(httpx2.Auth):
    """A fixed Authorization header as an Auth object, so redirects to other hosts can drop it."""

    def __init__(self, value: Callable[[], str]) -> None:
        self._value = value

    def auth_flow(self, request: httpx2.Request) -> Iterator[httpx2.Request]:
        request.headers["Authorization"] = self._value()
        yield request


# --- cursors and run records ------------------------------------------------------------------------


def read_cursor(session: Session, source: str) -> dict[str, Any] | None:
    state = session.get(SyncState, source)
    if state is None or not state.cursor:
        return None
    try:
        value = json.loads(state.cursor)
    except ValueError:
        log.warning("sync state %s is not JSON; starting over", source)
        return None
    return value if isinstance(value, dict) else None


def write_cursor(session: Session, source: str, value: dict[str, Any] | None) -> None:
    text = json.dumps(value, sort_keys=True) if value is not None else None
    state = session.get(SyncState, source)
    if state is None:
        session.add(SyncState(source=source, cursor=text))
    else:
        state.cursor = text


@contextmanager
def recorded_run(sessions: sessionmaker[Session], report: IngestReport) -> Iterator[None]:
    """One IngestRun row per run, written at start (so a crash leaves a trace) and finished at the end."""
    started = time.monotonic()
    with session_scope(sessions) as session:
        run = IngestRun(source=report.source)
        session.add(run)
        session.flush()
        run_id = run.id
    status = "failed"
    try:
        yield
        status = "ok" if report.ok else "failed"
    except BaseException as exc:
        report.error = report.error or f"{type(exc).__name__}: {exc}"
        raise
    finally:
        report.seconds = time.monotonic() - started
        with session_scope(sessions) as session:
            run = session.get(IngestRun, run_id)
            if run is not None:
                run.finished_at = utcnow()
                run.status = status
                run.counts = dict(report.counts)
                run.error = report.error
