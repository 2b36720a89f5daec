"""A fake Jira Cloud REST API v3: enhanced search with nextPageToken, /myself, /issue/{key}.

    with FakeJira() as jira:
        jira.add_issues([jira_issue("ABC-1", "Set up CI", assignee=account("acc-1", "Anna Roth"))])
        settings = Settings(JIRA_BASE_URL=jira.base_url, JIRA_EMAIL=jira.email, JIRA_API_TOKEN=jira.api_token)

Seed with wire-format issue dicts (`{"id", "key", "fields": {...}}`), e.g. the sample dataset's.
The old `/rest/api/3/search` answers 410 like the real service. JQL support is a deliberate subset,
enough for incremental sync and assistant tools: clauses joined by AND, each one of
`field = v`, `field != v`, `field in (a, b)`, `field >=|>|<=|< "yyyy/MM/dd[ HH:mm]"` or `-30d`,
`field is [not] EMPTY`, on project, key, assignee (accountId), status, issuetype, labels, created,
updated, resolved; then `ORDER BY updated|created|key [ASC|DESC]`. Other clauses are ignored and listed
in `ignored_jql`; OR is not understood.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.fakes.http_server import FakeServer, RecordedRequest, Reply

REMOVED_SEARCH = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)


def account(account_id: str, display_name: str, email: str | None = None) -> dict[str, Any]:
    user: dict[str, Any] = {"accountId": account_id, "displayName": display_name, "active": True}
    if email:
        user["emailAddress"] = email
    return user


def adf(*paragraphs: str) -> dict[str, Any]:
    return {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": p}]} for p in paragraphs],
    }


def jira_time(when: datetime) -> str:
    """Jira's own timestamp format: `2024-05-02T10:15:30.000+0000`."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def jira_issue(
    key: str,
    summary: str,
    *,
    assignee: dict[str, Any] | None = None,
    description: str | dict[str, Any] | None = None,
    status: str = "Done",
    issue_type: str = "Story",
    labels: list[str] | None = None,
    components: list[str] | None = None,
    created: datetime | None = None,
    updated: datetime | None = None,
    resolved: datetime | None = None,
    issue_id: str | None = None,
) -> dict[str, Any]:
    updated = updated or datetime.now(UTC)
    created = created or updated - timedelta(days=3)
    project = key.split("-")[0]
    return {
        "id": issue_id or str(10000 + int(hashlib.sha1(key.encode()).hexdigest()[:6], 16) % 90000),
        "key": key,
        "fields": {
            "summary": summary,
            "description": adf(description) if isinstance(description, str) else description,
            "status": {
                "name": status,
                "statusCategory": {"key": "done" if status == "Done" else "indeterminate"},
            },
            "issuetype": {"name": issue_type},
            "project": {"key": project, "name": f"Project {project}"},
            "labels": labels or [],
            "components": [{"name": c} for c in components or []],
            "assignee": assignee,
            "created": jira_time(created),
            "updated": jira_time(updated),
            "resolutiondate": jira_time(resolved) if resolved else None,
        },
    }


class FakeJira(FakeServer):
    def __init__(
        self,
        *,
        email: str = "ingest@example.com",
        api_token: str = "jira-api-token",
        time_zone: str = "UTC",
        max_results: int = 100,
    ) -> None:
        super().__init__()
        self.email = email
        self.api_token = api_token
        self.time_zone = time_zone
        self.max_results = max_results  # the cap Jira applies to maxResults when fields are requested
        self.issues: dict[str, dict[str, Any]] = {}
        self.ignored_jql: list[str] = []

    @property
    def base_url(self) -> str:
        return self.origin

    # -- seeding --

    def add_issues(self, issues: Iterable[dict[str, Any]]) -> None:
        for issue in issues:
            self.issues[issue["key"]] = json.loads(json.dumps(issue))

    def update_issue(self, key: str, *, updated: datetime | None = None, **fields: Any) -> None:
        """Change fields (wire format) and bump `updated` to now, as any edit in Jira does."""
        issue = self.issues[key]
        issue["fields"].update(fields)
        issue["fields"]["updated"] = jira_time(updated or datetime.now(UTC))

    @property
    def searches(self) -> list[RecordedRequest]:
        return self.requests_to("/rest/api/3/search/jql")

    def search_jql(self, request: RecordedRequest) -> str | None:
        """The JQL a recorded search asked for (GET query or POST body)."""
        return request.json().get("jql") if request.method == "POST" else request.param("jql")

    # -- the API --

    def error_body(self, status: int) -> bytes:
        return json.dumps({"errorMessages": [f"injected fault {status}"], "errors": {}}).encode()

    def route(self, request: RecordedRequest) -> Reply:
        if not self._authorised(request):
            return Reply.json(
                {"errorMessages": ["Client must be authenticated to access this resource."], "errors": {}},
                401,
            )
        path = request.path.rstrip("/")
        if path == "/rest/api/3/search":
            return Reply.json({"errorMessages": [REMOVED_SEARCH], "errors": {}}, 410)
        if path == "/rest/api/3/search/jql":
            return self._search(request)
        if path == "/rest/api/3/myself":
            return Reply.json(
                {
                    "accountId": "ingest-bot",
                    "emailAddress": self.email,
                    "displayName": "Ingest Bot",
                    "active": True,
                    "timeZone": self.time_zone,
                }
            )
        if path.startswith("/rest/api/3/issue/"):
            issue = self.issues.get(path.rsplit("/", 1)[1])
            if issue is None:
                return Reply.json(
                    {"errorMessages": ["Issue does not exist or you do not have permission to see it."]}, 404
                )
            return Reply.json(issue)
        return Reply.json({"errorMessages": [f"no route {request.method} {path}"]}, 404)

    def _authorised(self, request: RecordedRequest) -> bool:
        expected = base64.b64encode(f"{self.email}:{self.api_token}".encode()).decode()
        return request.header("authorization") == f"Basic {expected}"

    def _search(self, request: RecordedRequest) -> Reply:
        if request.method == "POST":
            body = request.json() or {}
            jql, token = body.get("jql", ""), body.get("nextPageToken")
            fields, max_results = body.get("fields"), body.get("maxResults")
        else:
            jql, token = request.param("jql") or "", request.param("nextPageToken")
            fields = (request.param("fields") or "").split(",") if request.param("fields") else None
            max_results = request.param("maxResults")
        where, order = _split_order(jql)
        if not where.strip():
            return Reply.json(
                {
                    "errorMessages": [
                        "Unbounded JQL queries are not allowed here. Please add a search restriction."
                    ]
                },
                400,
            )
        try:
            matches = self._evaluate(where, order)
        except ValueError as exc:
            return Reply.json({"errorMessages": [str(exc)], "errors": {}}, 400)
        offset = 0
        if token:
            decoded = _decode_token(token)
            if decoded is None or decoded["q"] != _jql_hash(jql):
                return Reply.json(
                    {"errorMessages": ["The provided next page token is invalid or expired."]}, 400
                )
            offset = decoded["o"]
        size = max(1, min(int(max_results or 50), self.max_results))
        page = matches[offset : offset + size]
        reply: dict[str, Any] = {"issues": [self._render(issue, fields) for issue in page]}
        if offset + size < len(matches):
            reply["nextPageToken"] = _encode_token(offset + size, jql)
            reply["isLast"] = False
        else:
            reply["isLast"] = True
        return Reply.json(reply)

    def _render(self, issue: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
        rendered = {
            "id": issue["id"],
            "key": issue["key"],
            "self": f"{self.origin}/rest/api/3/issue/{issue['id']}",
        }
        if fields is None or "*all" in fields or "*navigable" in fields:
            rendered["fields"] = issue["fields"]
        else:
            rendered["fields"] = {f: issue["fields"].get(f) for f in fields if f in issue["fields"]}
        return rendered

    # -- the JQL subset --

    def _evaluate(self, where: str, order: str) -> list[dict[str, Any]]:
        predicates = [p for p in (self._predicate(c) for c in _conjuncts(where) if c) if p is not None]
        issues = [i for i in self.issues.values() if all(p(i) for p in predicates)]
        field, _, direction = (order or "key ASC").partition(" ")
        field = {"resolved": "resolutiondate"}.get(field.lower(), field.lower())

        def sort_key(issue: dict[str, Any]) -> Any:
            if field == "key":
                project, _, number = issue["key"].partition("-")
                return (project, int(number) if number.isdigit() else 0)
            return (
                _parse_jira_time(issue["fields"].get(field)) or datetime.min.replace(tzinfo=UTC),
                issue["key"],
            )

        return sorted(issues, key=sort_key, reverse=direction.strip().upper().startswith("DESC"))

    def _predicate(self, clause: str) -> Any:
        m = re.fullmatch(r"(\w+)\s+is\s+(not\s+)?empty", clause, re.I)
        if m:
            field, negate = m.group(1).lower(), bool(m.group(2))
            return lambda i: (not _values(i, field)) != negate
        m = re.fullmatch(r"(\w+)\s+(not\s+in|in)\s+\((.*)\)", clause, re.I)
        if m:
            field, negate = m.group(1).lower(), m.group(2).lower().startswith("not")
            wanted = {_unquote(v).lower() for v in m.group(3).split(",")}
            return lambda i: bool({v.lower() for v in _values(i, field)} & wanted) != negate
        m = re.fullmatch(r"(\w+)\s*(>=|<=|!=|=|>|<|~)\s*(.+)", clause)
        if not m:
            self.ignored_jql.append(clause)
            return None
        field, op, raw = m.group(1).lower(), m.group(2), m.group(3).strip()
        if field in ("created", "updated", "resolved", "resolutiondate"):
            bound = self._jql_date(_unquote(raw))
            name = "resolutiondate" if field == "resolved" else field
            compare = {">=": bound.__le__, ">": bound.__lt__, "<=": bound.__ge__, "<": bound.__gt__}.get(op)
            if compare is None:
                self.ignored_jql.append(clause)
                return None
            return lambda i: (t := _parse_jira_time(i["fields"].get(name))) is not None and compare(t)
        value = _unquote(raw).lower()
        if op == "~":
            return lambda i: value in json.dumps(i["fields"]).lower()
        return lambda i: (value in {v.lower() for v in _values(i, field)}) == (op == "=")

    def _jql_date(self, text: str) -> datetime:
        zone = ZoneInfo(self.time_zone)
        relative = re.fullmatch(r"-(\d+)([dwh])", text)
        if relative:
            amount, unit = int(relative.group(1)), relative.group(2)
            delta = {"d": timedelta(days=amount), "w": timedelta(weeks=amount), "h": timedelta(hours=amount)}[
                unit
            ]
            return datetime.now(UTC) - delta
        for pattern in ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d"):
            try:
                return datetime.strptime(text, pattern).replace(tzinfo=zone)
            except ValueError:
                continue
        raise ValueError(f"Date value '{text}' for field is invalid.")


def _split_order(jql: str) -> tuple[str, str]:
    m = re.search(r"\border\s+by\b(.*)\Z", jql, re.I | re.S)
    if not m:
        return jql, ""
    return jql[: m.start()], m.group(1).split(",")[0].strip()


def _conjuncts(text: str) -> list[str]:
    """Top-level `A AND (B AND C)` -> [A, B, C]; quotes and the parentheses of `in (...)` respected."""
    text = text.strip()
    while _wrapped(text):
        text = text[1:-1].strip()
    parts: list[str] = []
    depth, quote, start, i = 0, "", 0, 0
    while i < len(text):
        ch = text[i]
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "()":
            depth += 1 if ch == "(" else -1
        elif depth == 0 and text[i : i + 5].upper() == " AND ":
            parts.append(text[start:i])
            start = i = i + 5
            continue
        i += 1
    parts.append(text[start:])
    if len(parts) == 1:
        return [text]
    return [clause for part in parts for clause in _conjuncts(part)]


def _wrapped(text: str) -> bool:
    if not (text.startswith("(") and text.endswith(")")):
        return False
    depth = 0
    for i, ch in enumerate(text):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth == 0 and i < len(text) - 1:
            return False
    return True


def _unquote(text: str) -> str:
    text = text.strip()
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'" else text


def _values(issue: dict[str, Any], field: str) -> list[str]:
    fields = issue["fields"]
    if field == "key":
        return [issue["key"]]
    if field == "project":
        project = fields.get("project") or {}
        return [v for v in (project.get("key"), project.get("name")) if v]
    if field == "assignee":
        assignee = fields.get("assignee") or {}
        return [v for v in (assignee.get("accountId"), assignee.get("emailAddress")) if v]
    if field in ("status", "issuetype", "type"):
        value = fields.get("issuetype" if field == "type" else field) or {}
        return [value["name"]] if value.get("name") else []
    if field == "labels":
        return list(fields.get("labels") or [])
    if field == "component":
        return [c["name"] for c in fields.get("components") or []]
    value = fields.get(field)
    return [str(value)] if value else []


def _parse_jira_time(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")


def _jql_hash(jql: str) -> str:
    return hashlib.sha256(jql.encode()).hexdigest()[:16]


def _encode_token(offset: int, jql: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset, "q": _jql_hash(jql)}).encode()).decode()


def _decode_token(token: str) -> dict[str, Any] | None:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
    except ValueError:
        return None
    return decoded if isinstance(decoded, dict) and {"o", "q"} <= decoded.keys() else None
