"""Jira Cloud issues into `jira_issues`, mapped to people, incrementally by `updated`; and `JiraClient`,
the calls the staffing jobs and the chat tool need (single issues, JQL, comments, issue properties).

The enhanced search (`/rest/api/3/search/jql`, `nextPageToken`) is the only one left: `/rest/api/3/search`
answers 410. Results are always ordered by `updated` so the cursor written after each page is a safe
resume point: anything changed later sorts after it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx2
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from skillmatch.config import Settings
from skillmatch.db import session_scope
from skillmatch.ingest.http import (
    ProgressFn,
    SourceClient,
    SourceConfigError,
    SourceDataError,
    SourceError,
    SourceStatusError,
    WaitFn,
    no_progress,
    parse_datetime,
    read_cursor,
    recorded_run,
    write_cursor,
)
from skillmatch.ingest.report import IngestReport
from skillmatch.models import JiraIssue, Person
from skillmatch.people import find_person

log = logging.getLogger(__name__)

SOURCE = "jira"
CURSOR_KEY = "jira"
PAGE_SIZE = 100  # the API's cap when fields are requested
DESCRIPTION_MAX_CHARS = 4000
FIELDS = [
    "summary",
    "description",
    "status",
    "issuetype",
    "project",
    "labels",
    "components",
    "assignee",
    "created",
    "updated",
    "resolutiondate",
]
AUTH_HINT = "check JIRA_EMAIL and JIRA_API_TOKEN (and that the user may browse the projects)"
COMMENT_PAGE_SIZE = 100
# When the Jira user's time zone is unknown, widen the window by the largest UTC offset there is.
_UNKNOWN_ZONE_MARGIN = timedelta(hours=14)
_ORDER_BY = re.compile(r"\border\s+by\b.*\Z", re.IGNORECASE | re.DOTALL)


def ingest_jira(
    sessions: sessionmaker[Session],
    settings: Settings,
    *,
    full: bool = False,
    wait: WaitFn | None = None,
    progress: ProgressFn = no_progress,
) -> IngestReport:
    """Fetch issues matching JIRA_JQL (only those updated since the last run unless `full`)."""
    base_url, email, token = _require_settings(settings)
    report = IngestReport(SOURCE)
    auth = httpx2.BasicAuth(email, token)
    client = SourceClient(SOURCE, settings, auth=auth, auth_hint=AUTH_HINT, wait=wait)
    with client, recorded_run(sessions, report):
        try:
            _run(client, sessions, settings, base_url, report, full=full, progress=progress)
        except SourceError as exc:
            report.error = str(exc)
    return report


def _require_settings(settings: Settings) -> tuple[str, str, str]:
    missing = [
        name
        for name, value in (
            ("JIRA_BASE_URL", settings.jira_base_url),
            ("JIRA_EMAIL", settings.jira_email),
            ("JIRA_API_TOKEN", settings.jira_api_token),
        )
        if not value
    ]
    if missing:
        raise SourceConfigError(SOURCE, f"not configured: set {', '.join(missing)}")
    assert settings.jira_base_url and settings.jira_email and settings.jira_api_token
    return settings.jira_base_url.rstrip("/"), settings.jira_email, settings.jira_api_token.get_secret_value()


def _run(
    client: SourceClient,
    sessions: sessionmaker[Session],
    settings: Settings,
    base_url: str,
    report: IngestReport,
    *,
    full: bool,
    progress: ProgressFn,
) -> None:
    # The cursor only applies to the same site and query: a widened JQL must fetch the older issues too.
    scope = {"site": base_url, "jql": settings.jira_jql}
    with session_scope(sessions) as session:
        cursor = read_cursor(session, CURSOR_KEY)
    since = None
    if cursor and not full and all(cursor.get(k) == v for k, v in scope.items()):
        since = parse_datetime(cursor.get("updated"))

    me = client.get_json(f"{base_url}/rest/api/3/myself").data
    zone_name = me.get("timeZone") if isinstance(me, dict) else None
    jql = build_jql(settings.jira_jql, jql_timestamp(since, zone_name) if since else None)
    log.info("jira: searching %s", jql)

    people = _PersonResolver()
    token: str | None = None
    seen_tokens: set[str] = set()
    done = 0
    while True:
        body: dict[str, Any] = {"jql": jql, "fields": FIELDS, "maxResults": PAGE_SIZE}
        if token:
            body["nextPageToken"] = token
        page = client.post_json(f"{base_url}/rest/api/3/search/jql", body=body).data
        if not isinstance(page, dict) or not isinstance(page.get("issues"), list):
            raise SourceDataError(SOURCE, "search response has no `issues` list")
        with session_scope(sessions) as session:
            newest = _store_page(session, page["issues"], people, report)
            if newest and (since is None or newest > since):
                since = newest
            if since is not None:
                write_cursor(session, CURSOR_KEY, {**scope, "updated": since.isoformat()})
        done += len(page["issues"])
        report.count("pages")
        progress("issues", done, None)
        token = page.get("nextPageToken")
        if not token or page.get("isLast") is True:
            break
        if token in seen_tokens:
            raise SourceDataError(SOURCE, "the search returned the same nextPageToken twice")
        seen_tokens.add(token)

    with session_scope(sessions) as session:
        _link_unmapped(session)


def build_jql(configured: str, since: str | None) -> str:
    """Configured JQL, plus `updated >= since`, always ordered by `updated` (the cursor relies on it)."""
    where = _ORDER_BY.sub("", configured).strip()
    clauses = [f"({where})"] if where else []
    if since:
        clauses.append(f'updated >= "{since}"')
    return (" AND ".join(clauses) + " ORDER BY updated ASC").strip()


def jql_timestamp(when: datetime, zone_name: str | None) -> str:
    """JQL dates are read in the API user's time zone and have minute precision (`>=` keeps the edge)."""
    try:
        zone = ZoneInfo(zone_name) if zone_name else None
    except (ZoneInfoNotFoundError, ValueError):
        zone = None
    if zone is None:
        log.warning("jira: user time zone %r unknown; widening the incremental window", zone_name)
        local = when.astimezone(UTC) - _UNKNOWN_ZONE_MARGIN
    else:
        local = when.astimezone(zone)
    return local.strftime("%Y/%m/%d %H:%M")


def _store_page(
    session: Session, issues: list[Any], people: _PersonResolver, report: IngestReport
) -> datetime | None:
    keys = [i["key"] for i in issues if isinstance(i, dict) and isinstance(i.get("key"), str)]
    existing = {row.key: row for row in session.scalars(select(JiraIssue).where(JiraIssue.key.in_(keys)))}
    newest: datetime | None = None
    for issue in issues:
        if not isinstance(issue, dict) or not isinstance(issue.get("key"), str):
            report.problem(str(issue)[:80], "issue without a key")
            continue
        fields = issue.get("fields") or {}
        values = _issue_values(fields)
        assignee = fields.get("assignee") or None
        values["assignee_account_id"] = assignee.get("accountId") if assignee else None
        values["person_id"] = people.resolve(session, assignee) if assignee else None
        if assignee is None:
            report.count("unassigned")
        elif values["person_id"] is None:
            report.count("unmapped")
        row = existing.get(issue["key"])
        if row is None:
            row = JiraIssue(key=issue["key"])
            session.add(row)
            existing[issue["key"]] = row
            report.count("added")
        else:
            report.count("updated")
        row.jira_id = str(issue["id"]) if issue.get("id") is not None else None
        for name, value in values.items():
            setattr(row, name, value)
        if values["updated"] and (newest is None or values["updated"] > newest):
            newest = values["updated"]
    return newest


def _issue_values(fields: dict[str, Any]) -> dict[str, Any]:
    def name_of(value: Any, key: str = "name") -> str | None:
        return value.get(key) if isinstance(value, dict) else None

    return {
        "summary": (fields.get("summary") or "")[:1000],
        "description": adf_to_text(fields.get("description"), DESCRIPTION_MAX_CHARS) or None,
        "status": name_of(fields.get("status")),
        "issue_type": name_of(fields.get("issuetype")),
        "project_key": name_of(fields.get("project"), "key"),
        "labels": [str(label) for label in fields.get("labels") or []],
        "components": [
            c["name"] for c in fields.get("components") or [] if isinstance(c, dict) and "name" in c
        ],
        "created": parse_datetime(fields.get("created")),
        "updated": parse_datetime(fields.get("updated")),
        "resolved": parse_datetime(fields.get("resolutiondate")),
    }


class _PersonResolver:
    """accountId first, then e-mail (remembering the accountId on the person), then an unambiguous name.

    Caches person ids per account for the run: a board has few assignees and many issues.
    """

    def __init__(self) -> None:
        self._cache: dict[str, int | None] = {}

    def resolve(self, session: Session, assignee: dict[str, Any]) -> int | None:
        account_id = assignee.get("accountId")
        if account_id and account_id in self._cache:
            return self._cache[account_id]
        person = self._find(session, assignee)
        if account_id:
            self._cache[account_id] = person.id if person else None
        return person.id if person else None

    @staticmethod
    def _find(session: Session, assignee: dict[str, Any]) -> Person | None:
        account_id = assignee.get("accountId")
        if account_id:
            person = find_person(session, jira_account_id=account_id)
            if person:
                return person
        person = find_person(session, email=assignee.get("emailAddress"))
        if person:
            if account_id and person.jira_account_id is None:
                person.jira_account_id = account_id
                session.flush()
            return person
        name = assignee.get("displayName")
        return find_person(session, name=name) if name else None


def _link_unmapped(session: Session) -> None:
    """Issues fetched before their assignee was known get linked once a person carries the accountId."""
    person_for_account = (
        select(Person.id).where(Person.jira_account_id == JiraIssue.assignee_account_id).scalar_subquery()
    )
    session.execute(
        update(JiraIssue)
        .where(JiraIssue.person_id.is_(None), JiraIssue.assignee_account_id.is_not(None))
        .where(JiraIssue.assignee_account_id.in_(select(Person.jira_account_id)))
        .values(person_id=person_for_account)
        .execution_options(synchronize_session=False)
    )


# --- Atlassian Document Format -> text ------------------------------------------------------------

_BLOCKS = {"paragraph", "heading", "codeBlock", "blockquote", "rule", "panel", "mediaSingle", "table"}
_LINES = {"bulletList", "orderedList", "taskList", "decisionList"}
_TASK_BOX = {"DONE": "[x] ", "TODO": "[ ] "}


def adf_to_text(doc: Any, max_chars: int = DESCRIPTION_MAX_CHARS) -> str:
    """Plain text from an ADF document (API v3) or a plain string (v2), cut at a word boundary.

    Tables become one line per row with cells joined by " | "; mentions, emoji, status lozenges and
    dates keep their visible text; media and unknown node types without text vanish."""
    if doc is None:
        return ""
    if isinstance(doc, str):
        text = doc
    else:
        parts: list[str] = []
        _walk(doc, parts, "")
        text = "".join(parts)
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    if len(text) <= max_chars:
        return text
    cut = text[:max_chars]
    space = cut.rfind(" ")
    return (cut[:space] if space > max_chars * 0.8 else cut).rstrip() + " …"


def _inline(node: Any, prefix: str = "") -> str:
    """A node's text on one line (table cells, list items' nested blocks)."""
    inner: list[str] = []
    _walk(node, inner, prefix)
    return " ".join("".join(inner).split())


def _walk(node: Any, out: list[str], prefix: str) -> None:
    if isinstance(node, list):
        for child in node:
            _walk(child, out, prefix)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    attrs = node.get("attrs") or {}
    if kind == "text":
        out.append(str(node.get("text", "")))
    elif kind == "hardBreak":
        out.append("\n")
    elif kind == "mention":
        out.append(attrs.get("text") or "@someone")
    elif kind == "emoji":
        out.append(attrs.get("text") or attrs.get("shortName") or "")
    elif kind == "status":
        out.append(f"[{attrs.get('text') or ''}]")
    elif kind in ("inlineCard", "blockCard", "embedCard"):
        out.append(attrs.get("url") or "")
    elif kind == "date":
        stamp = attrs.get("timestamp")
        if stamp and str(stamp).isdigit():
            out.append(datetime.fromtimestamp(int(stamp) / 1000, UTC).date().isoformat())
    elif kind in ("listItem", "taskItem", "decisionItem"):
        inner: list[str] = []
        _walk(node.get("content"), inner, prefix + "  ")
        item = re.sub(r"\n+", "\n", "".join(inner).strip())
        box = _TASK_BOX.get(attrs.get("state", ""), "") if kind == "taskItem" else ""
        out.append(f"{prefix}- {box}{item}\n")
    elif kind == "tableRow":
        cells = [_inline(cell.get("content")) for cell in node.get("content") or [] if isinstance(cell, dict)]
        out.append(" | ".join(cells) + "\n")
    elif kind in ("expand", "nestedExpand"):
        if attrs.get("title"):
            out.append(f"{attrs['title']}\n")
        _walk(node.get("content"), out, prefix)
        out.append("\n\n")
    else:
        _walk(node.get("content"), out, prefix)
        if kind in _BLOCKS:
            out.append("\n\n")
        elif kind in _LINES:
            out.append("\n")


def import_issues(
    sessions: sessionmaker[Session], issues: list[Any], source: str = "jira:file"
) -> IngestReport:
    """Issues as a saved `/rest/api/3/search/jql` response holds them (an export, the bundled sample):
    the same mapping to people as a live sync, without a cursor."""
    report = IngestReport(source)
    with session_scope(sessions) as session:
        _store_page(session, issues, _PersonResolver(), report)
        _link_unmapped(session)
    return report


# --- the client the staffing jobs and the chat tool use ------------------------------------------------


def jira_settings(settings: Settings) -> tuple[str, str, str]:
    """(base URL, e-mail, API token), or SourceConfigError naming what is missing."""
    return _require_settings(settings)


class JiraClient:
    """Jira Cloud REST v3 calls beyond ingestion: issues by key or JQL, comments, issue properties.

    Synchronous (one pooled httpx2 client, thread-safe); async callers run it in a worker thread. Errors are
    the shared `SourceError`s: 401/403 `SourceAuthError` (with `.status`), other 4xx `SourceStatusError`
    (404: no such issue, or not visible to this user), 429/5xx retried, then `SourceUnavailableError`.
    Creating a comment is never repeated after an ambiguous failure (see `SourceClient.post_json`).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        wait: WaitFn | None = None,
        transport: httpx2.BaseTransport | None = None,
    ) -> None:
        base_url, email, token = _require_settings(settings)
        self.base_url = base_url
        self._http = SourceClient(
            SOURCE,
            settings,
            auth=httpx2.BasicAuth(email, token),
            auth_hint=AUTH_HINT,
            wait=wait,
            transport=transport,
        )

    def __enter__(self) -> JiraClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _url(self, *parts: str) -> str:
        return f"{self.base_url}/rest/api/3/" + "/".join(quote(p, safe="") for p in parts)

    def browse_url(self, key: str) -> str:
        return f"{self.base_url}/browse/{quote(key, safe='')}"

    # -- who we are --

    def myself(self) -> dict[str, Any]:
        data = self._http.get_json(self._url("myself")).data
        if not isinstance(data, dict) or not isinstance(data.get("accountId"), str):
            raise SourceDataError(SOURCE, "/myself answered without an accountId")
        return data

    # -- issues --

    def issue(self, key: str, *, fields: Sequence[str], properties: Sequence[str] = ()) -> dict[str, Any]:
        params: dict[str, Any] = {"fields": ",".join(fields)}
        if properties:
            params["properties"] = ",".join(properties)
        data = self._http.get_json(self._url("issue", key), params=params).data
        if not isinstance(data, dict) or not isinstance(data.get("key"), str):
            raise SourceDataError(SOURCE, f"issue {key} answered without a key")
        return data

    def search(
        self,
        jql: str,
        *,
        fields: Sequence[str],
        properties: Sequence[str] = (),
        limit: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Issues matching `jql`, page by page (nextPageToken), at most `limit`."""
        token: str | None = None
        seen_tokens: set[str] = set()
        yielded = 0
        while True:
            size = PAGE_SIZE if limit is None else max(1, min(PAGE_SIZE, limit - yielded))
            body: dict[str, Any] = {"jql": jql, "fields": list(fields), "maxResults": size}
            if properties:
                body["properties"] = list(properties)
            if token:
                body["nextPageToken"] = token
            page = self._http.post_json(self._url("search", "jql"), body=body).data
            if not isinstance(page, dict) or not isinstance(page.get("issues"), list):
                raise SourceDataError(SOURCE, "search response has no `issues` list")
            for issue in page["issues"]:
                if not isinstance(issue, dict) or not isinstance(issue.get("key"), str):
                    raise SourceDataError(SOURCE, "search returned an issue without a key")
                yield issue
                yielded += 1
                if limit is not None and yielded >= limit:
                    return
            token = page.get("nextPageToken")
            if not token or page.get("isLast") is True:
                return
            if token in seen_tokens:
                raise SourceDataError(SOURCE, "the search returned the same nextPageToken twice")
            seen_tokens.add(token)

    # -- comments --

    def comments(self, key: str) -> Iterator[dict[str, Any]]:
        """All comments of an issue, oldest first (paged by startAt/total)."""
        start = 0
        while True:
            params = {"startAt": start, "maxResults": COMMENT_PAGE_SIZE, "orderBy": "created"}
            page = self._http.get_json(self._url("issue", key, "comment"), params=params).data
            if not isinstance(page, dict) or not isinstance(page.get("comments"), list):
                raise SourceDataError(SOURCE, f"comments of {key}: no `comments` list")
            yield from page["comments"]
            start += len(page["comments"])
            total = page.get("total")
            if not page["comments"] or not isinstance(total, int) or start >= total:
                return

    def add_comment(self, key: str, body: dict[str, Any]) -> dict[str, Any]:
        """Post an ADF comment; the created comment (with its `id`)."""
        data = self._http.post_json(self._url("issue", key, "comment"), body={"body": body}, repeatable=False)
        return _comment(data.data, key)

    def update_comment(
        self, key: str, comment_id: str, body: dict[str, Any], *, notify: bool = False
    ) -> dict[str, Any]:
        """Replace a comment's body. `notify=False`: watchers are not mailed about a refreshed answer."""
        url = self._url("issue", key, "comment", comment_id)
        if not notify:
            url += "?notifyUsers=false"
        return _comment(self._http.put_json(url, body={"body": body}).data, key)

    # -- issue properties (JSON values attached to an issue, invisible in the UI) --

    def get_property(self, key: str, name: str) -> Any | None:
        """The property's value, or None when the issue has no such property."""
        try:
            data = self._http.get_json(self._url("issue", key, "properties", name)).data
        except SourceStatusError as exc:
            if exc.status == 404:
                return None
            raise
        return data.get("value") if isinstance(data, dict) else None

    def set_property(self, key: str, name: str, value: Any) -> None:
        self._http.put_json(self._url("issue", key, "properties", name), body=value)


def _comment(data: Any, key: str) -> dict[str, Any]:
    if not isinstance(data, dict) or data.get("id") is None:
        raise SourceDataError(SOURCE, f"comment on {key} answered without an id")
    data["id"] = str(data["id"])
    return data
