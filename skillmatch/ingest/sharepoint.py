"""CVs from a SharePoint document library through Microsoft Graph delta queries.

Graph semantics: a round follows `@odata.nextLink` until a page carries `@odata.deltaLink`; only then is
the deltaLink stored, so an interrupted round is repeated from the previous deltaLink (upserts are
idempotent by content hash). A round without a deltaLink (first run, `--full`, or after 410
resyncRequired) lists everything, so documents it did not return are removed afterwards.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any, Protocol
from urllib.parse import quote

import httpx2
import msal
from msal.authority import WELL_KNOWN_AUTHORITY_HOSTS
from sqlalchemy.orm import Session, sessionmaker

from skillmatch.config import Settings
from skillmatch.db import session_scope
from skillmatch.ingest.cv_store import UpsertResult
from skillmatch.ingest.http import (
    HeaderAuth,
    ProgressFn,
    SourceAuthError,
    SourceClient,
    SourceConfigError,
    SourceDataError,
    SourceError,
    SourceStatusError,
    SourceUnavailableError,
    WaitFn,
    no_progress,
    parse_datetime,
    read_cursor,
    recorded_run,
    ssl_verify,
    write_cursor,
)
from skillmatch.ingest.report import IngestReport

log = logging.getLogger(__name__)

SOURCE = "sharepoint"
SUPPORTED_SUFFIXES = frozenset({".md", ".txt", ".docx", ".pdf"})
TokenProvider = Callable[[], str]


class DocumentStore(Protocol):
    """What this module needs of `cv_store.CvStore` (tests pass a recording double)."""

    def upsert(
        self,
        *,
        source: str,
        source_kind: str,
        display_name: str,
        data: bytes,
        modified_at: datetime | None = None,
        web_url: str | None = None,
    ) -> UpsertResult: ...

    def remove(self, source: str) -> bool: ...

    def known_sources(self, prefix: str) -> set[str]: ...


def ingest_sharepoint(
    sessions: sessionmaker[Session],
    settings: Settings,
    store: DocumentStore,
    *,
    full: bool = False,
    wait: WaitFn | None = None,
    progress: ProgressFn = no_progress,
    token_provider: TokenProvider | None = None,
) -> IngestReport:
    """Bring the configured drive (or folder) up to date in `store`."""
    drive_id = _require_settings(settings)
    report = IngestReport(SOURCE)
    token = token_provider or GraphTokenProvider(settings)
    client = SourceClient(
        SOURCE,
        settings,
        auth=HeaderAuth(lambda: f"Bearer {token()}"),
        auth_hint="the app registration needs the Graph application permission Sites.Read.All",
        wait=wait,
    )
    try:
        with client, recorded_run(sessions, report):
            try:
                _DeltaSync(client, sessions, settings, store, drive_id, report, progress).run(full=full)
            except SourceError as exc:
                report.error = str(exc)
    finally:
        if isinstance(token, GraphTokenProvider):
            token.close()
    return report


def _require_settings(settings: Settings) -> str:
    missing = [
        name
        for name, value in (
            ("SHAREPOINT_TENANT_ID", settings.sharepoint_tenant_id),
            ("SHAREPOINT_CLIENT_ID", settings.sharepoint_client_id),
            ("SHAREPOINT_CLIENT_SECRET", settings.sharepoint_client_secret),
            ("SHAREPOINT_DRIVE_ID", settings.sharepoint_drive_id),
        )
        if not value
    ]
    if missing:
        raise SourceConfigError(SOURCE, f"not configured: set {', '.join(missing)}")
    assert settings.sharepoint_drive_id
    return settings.sharepoint_drive_id


class GraphTokenProvider:
    """Client-credentials tokens from msal; msal caches them and renews shortly before expiry.

    msal talks through an httpx2 client (its `http_client` interface is httpx-shaped) rather than its
    default requests session: requests lets REQUESTS_CA_BUNDLE override an explicit `verify`, and one
    HTTP stack means one trust setting (SKILLMATCH_HTTP_CA_BUNDLE) for identity and Graph alike.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._http = httpx2.Client(verify=ssl_verify(settings), timeout=settings.http_timeout_seconds)
        self._app: msal.ConfidentialClientApplication | None = None

    @property
    def scope(self) -> str:
        # The resource is Graph's own host, so sovereign clouds (graph.microsoft.us, ...) work unchanged.
        graph = httpx2.URL(self._settings.graph_base_url)
        return f"{graph.scheme}://{graph.netloc.decode()}/.default"

    def __call__(self) -> str:
        try:
            result = self._application().acquire_token_for_client(scopes=[self.scope])
        except httpx2.HTTPError as exc:
            raise SourceUnavailableError(SOURCE, f"token endpoint failed ({type(exc).__name__})") from exc
        token = result.get("access_token") if isinstance(result, dict) else None
        if not token:
            result = result if isinstance(result, dict) else {}
            detail = (result.get("error_description") or "").splitlines()[:1]
            reason = ": ".join([result.get("error", "no token"), *detail])
            raise SourceAuthError(
                SOURCE, f"Graph token refused ({reason}); check SHAREPOINT_CLIENT_ID/SECRET"
            )
        return str(token)

    def close(self) -> None:
        self._http.close()

    def _application(self) -> msal.ConfidentialClientApplication:
        if self._app is None:
            settings = self._settings
            assert settings.sharepoint_client_secret
            host = settings.graph_authority_host.rstrip("/")
            known = httpx2.URL(host).host in WELL_KNOWN_AUTHORITY_HOSTS
            try:
                self._app = msal.ConfidentialClientApplication(
                    settings.sharepoint_client_id,
                    client_credential=settings.sharepoint_client_secret.get_secret_value(),
                    authority=f"{host}/{settings.sharepoint_tenant_id}",
                    # Microsoft's own hosts validate as they always did; a host the operator configured
                    # (a sovereign cloud's proxy, the contract tests' fake) is trusted as given.
                    instance_discovery=None if known else False,
                    http_client=self._http,
                )
            except httpx2.HTTPError as exc:
                raise SourceUnavailableError(
                    SOURCE, f"authority {host} failed ({type(exc).__name__})"
                ) from exc
            except ValueError as exc:  # tenant discovery refused: wrong tenant id or authority host
                first_line = str(exc).splitlines()[0][:200]
                raise SourceAuthError(SOURCE, f"authority rejected: {first_line}") from exc
        return self._app


class _DeltaSync:
    def __init__(
        self,
        client: SourceClient,
        sessions: sessionmaker[Session],
        settings: Settings,
        store: DocumentStore,
        drive_id: str,
        report: IngestReport,
        progress: ProgressFn,
    ) -> None:
        self.client = client
        self.sessions = sessions
        self.settings = settings
        self.store = store
        self.drive_id = drive_id
        self.report = report
        self.progress = progress
        self.graph = settings.graph_base_url.rstrip("/")
        self.folder = settings.sharepoint_folder.strip("/")
        self.cursor_key = f"sharepoint:{drive_id}"
        self.prefix = f"sharepoint:{drive_id}:"
        self.done = 0

    def start_url(self) -> str:
        drive = f"{self.graph}/drives/{_segment(self.drive_id)}"
        if self.folder:
            return f"{drive}/root:/{quote(self.folder)}:/delta"
        return f"{drive}/root/delta"

    def run(self, *, full: bool) -> None:
        with session_scope(self.sessions) as session:
            cursor = read_cursor(session, self.cursor_key) or {}
        delta_link = cursor.get("deltaLink") if cursor.get("folder") == self.folder and not full else None
        known = self.store.known_sources(self.prefix)
        if delta_link:
            try:
                self._round(delta_link, known, listing=False)
                return
            except SourceStatusError as exc:
                if exc.status != 410:
                    raise
                log.warning("sharepoint: delta token expired (%s); starting a full resync", exc.code)
                self.report.count("resync")
        self._round(self.start_url(), known, listing=True)

    def _round(self, url: str, known: set[str], *, listing: bool) -> None:
        seen: set[str] = set()
        next_url: str | None = url
        delta_link: str | None = None
        while next_url:
            page = self.client.get_json(next_url).data
            if not isinstance(page, dict) or not isinstance(page.get("value"), list):
                raise SourceDataError(SOURCE, "delta response has no `value` list")
            for item in page["value"]:
                if isinstance(item, dict) and item.get("id"):
                    self._apply(item, known, seen)
            self.done += len(page["value"])
            self.progress("drive items", self.done, None)
            next_url = page.get("@odata.nextLink")
            delta_link = page.get("@odata.deltaLink")
            if not next_url and not delta_link:
                raise SourceDataError(SOURCE, "delta page has neither @odata.nextLink nor @odata.deltaLink")
        if listing:
            for source in sorted(known - seen):
                if self.store.remove(source):
                    self.report.count("removed")
        with session_scope(self.sessions) as session:
            write_cursor(session, self.cursor_key, {"deltaLink": delta_link, "folder": self.folder})

    def _apply(self, item: dict[str, Any], known: set[str], seen: set[str]) -> None:
        source = f"{self.prefix}{item['id']}"
        name = str(item.get("name") or item["id"])
        if "deleted" in item:
            if self.store.remove(source):
                self.report.count("removed")
            known.discard(source)
            return
        if "folder" in item or "root" in item:
            self.report.count("folders")
            return
        if "file" not in item:
            self.report.count("skipped")  # OneNote packages, links and the like
            return
        if PurePosixPath(name).suffix.lower() not in SUPPORTED_SUFFIXES:
            self.report.count("unsupported")
            if source in known and self.store.remove(source):  # renamed to a type we do not read
                self.report.count("removed")
            return
        seen.add(source)  # from here on a failure must not count as "gone from the drive"
        size = item.get("size")
        if isinstance(size, int) and size > self.settings.cv_max_bytes:
            self.report.problem(name, f"{size} bytes is over SKILLMATCH_CV_MAX_BYTES")
            return
        content_url = f"{self.graph}/drives/{_segment(self.drive_id)}/items/{_segment(item['id'])}/content"
        try:
            data = self.client.get_bytes(content_url)
        except SourceStatusError as exc:  # e.g. deleted between the delta page and the download
            self.report.problem(name, f"download failed (HTTP {exc.status})")
            return
        result = self.store.upsert(
            source=source,
            source_kind="sharepoint",
            display_name=name,
            data=data,
            modified_at=parse_datetime(item.get("lastModifiedDateTime")),
            web_url=item.get("webUrl"),
        )
        if result.outcome == "failed":
            self.report.problem(name, result.reason or "could not be read")
        else:
            self.report.count(result.outcome)
        known.add(source)


def _segment(value: str) -> str:
    # SharePoint drive ids start with `b!`; Graph's own links keep the `!` literal, so do we.
    return quote(value, safe="!")
