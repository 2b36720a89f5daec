"""A fake Jira Cloud REST API v3: enhanced search with nextPageToken, /myself, issues, comments (ADF
bodies, validated), issue properties and per-issue permissions.

    with FakeJira() as jira:
        jira.add_issues([jira_issue("ABC-1", "Set up CI", assignee=account("acc-1", "Anna Roth"))])
        settings = Settings(JIRA_BASE_URL=jira.base_url, JIRA_EMAIL=jira.email, JIRA_API_TOKEN=jira.api_token)

Seed with wire-format issue dicts (`{"id", "key", "fields": {...}}`), e.g. the sample dataset's.
The old `/rest/api/3/search` answers 410 like the real service. JQL support is a deliberate subset,
enough for incremental sync, the staffing jobs and assistant tools: clauses joined by AND, each one of
`field = v`, `field != v`, `field in (a, b)`, `field >=|>|<=|< "yyyy/MM/dd[ HH:mm]"` or `-30d`,
`field is [not] EMPTY`, on project, key, assignee (accountId), status, statusCategory, issuetype, labels,
created, updated, resolved; then `ORDER BY updated|created|key [ASC|DESC]`. Other clauses are ignored and
listed in `ignored_jql`; OR is not understood. A project that does not exist is a 400, as in Jira.

Comments and properties, as the real API has them:

    GET|POST /rest/api/3/issue/{key}/comment            (paged by startAt/maxResults, `total`)
    GET|PUT|DELETE /rest/api/3/issue/{key}/comment/{id}  (PUT: only the bot's own comments)
    GET /rest/api/3/issue/{key}/properties, GET|PUT|DELETE .../properties/{name}
    GET /rest/api/3/issue/{key}?fields=a,b&properties=p  and  search/jql with "properties": [...]

Comment bodies must be valid ADF (a strict subset of the schema: known node types and marks, non-empty
text nodes, 32,767 characters at most); anything else is a 400 like Jira's. Per-issue permissions:

    jira.deny("ABC-2", "comment")     # POST comment -> 403; also "browse" (404 everywhere, hidden from
                                      # search) and "edit" (property writes -> 403)
    gate = jira.hold_comment_writes() # comment POST/PUTs wait until gate.set(); `jira.write_waiting` is
                                      # set when one is waiting (for tests of concurrent runs)
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import threading
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from tests.fakes.http_server import FakeServer, RecordedRequest, Reply

BOT_ACCOUNT_ID = "ingest-bot"
COMMENT_MAX_CHARS = 32767
PROPERTY_MAX_BYTES = 32768
NO_ISSUE = "Issue does not exist or you do not have permission to see it."
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
    extra_fields: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`extra_fields`: custom fields in wire format, e.g. {"customfield_10015": "2027-01-04"}."""
    updated = updated or datetime.now(UTC)
    created = created or updated - timedelta(days=3)
    project = key.split("-")[0]
    return {
        "id": issue_id or str(10000 + int(hashlib.sha1(key.encode()).hexdigest()[:6], 16) % 90000),
        "key": key,
        "fields": {
            "summary": summary,
            "description": adf(description) if isinstance(description, str) else description,
            "status": {"name": status, "statusCategory": _status_category(status)},
            "issuetype": {"name": issue_type},
            "project": {"key": project, "name": f"Project {project}"},
            "labels": labels or [],
            "components": [{"name": c} for c in components or []],
            "assignee": assignee,
            "created": jira_time(created),
            "updated": jira_time(updated),
            "resolutiondate": jira_time(resolved) if resolved else None,
            **(extra_fields or {}),
        },
    }


def _status_category(status: str) -> dict[str, str]:
    if status.lower() in ("done", "closed", "resolved"):
        return {"key": "done", "name": "Done"}
    if status.lower() in ("to do", "open", "backlog", "new"):
        return {"key": "new", "name": "To Do"}
    return {"key": "indeterminate", "name": "In Progress"}


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
        self.projects: set[str] = set()  # known project keys; filled from seeded issues and add_project()
        self.comments: dict[str, list[dict[str, Any]]] = {}  # issue key -> comments, oldest first
        self.properties: dict[str, dict[str, Any]] = {}  # issue key -> {property name: value}
        self.denied: dict[str, set[str]] = {}  # issue key -> {"browse", "comment", "edit"}
        self.comment_page_size = 100  # Jira's own default is larger; small pages exercise paging
        self.bot = account(BOT_ACCOUNT_ID, "Ingest Bot", email)
        self.write_waiting = threading.Event()
        self._write_gate: threading.Event | None = None
        self._comment_ids = itertools.count(10001)

    @property
    def base_url(self) -> str:
        return self.origin

    # -- seeding --

    def add_issues(self, issues: Iterable[dict[str, Any]]) -> None:
        for issue in issues:
            self.issues[issue["key"]] = json.loads(json.dumps(issue))
            self.projects.add(issue["key"].split("-")[0])

    def add_project(self, key: str) -> None:
        """A project with no issues yet (JQL on it matches nothing instead of failing)."""
        self.projects.add(key)

    def deny(self, key: str, *actions: str) -> None:
        """Take permissions away from the API user on one issue: "browse", "comment", "edit"."""
        unknown = set(actions) - {"browse", "comment", "edit"}
        assert not unknown, f"unknown permissions {unknown}"
        self.denied.setdefault(key, set()).update(actions)

    def add_comment(
        self, key: str, body: dict[str, Any] | str, *, author: dict[str, Any] | None = None
    ) -> str:
        """Seed a comment (by a person unless `author` says otherwise); its id."""
        doc = adf(body) if isinstance(body, str) else body
        return self._create_comment(self.issues[key], doc, author or account("acc-human", "Petra Planer"))[
            "id"
        ]

    def delete_comment(self, key: str, comment_id: str) -> None:
        """What a person deleting the bot's comment in the UI does."""
        self.comments[key] = [c for c in self.comments.get(key, []) if c["id"] != comment_id]

    def comments_on(self, key: str) -> list[dict[str, Any]]:
        return list(self.comments.get(key, []))

    def bot_comments(self, key: str) -> list[dict[str, Any]]:
        return [c for c in self.comments.get(key, []) if c["author"]["accountId"] == BOT_ACCOUNT_ID]

    def comment_writes(self) -> list[RecordedRequest]:
        """Every POST/PUT/DELETE on a comment, whatever the answer was."""
        return [r for r in self.requests if "/comment" in r.path and r.method in ("POST", "PUT", "DELETE")]

    def property_writes(self) -> list[RecordedRequest]:
        return [r for r in self.requests if "/properties/" in r.path and r.method in ("PUT", "DELETE")]

    def writes(self) -> list[RecordedRequest]:
        """Anything that would change Jira (search is a POST, but reads)."""
        return self.comment_writes() + self.property_writes()

    def hold_comment_writes(self) -> threading.Event:
        """Comment writes wait until the returned event is set (at most 30 s), e.g. to let a second run
        start while the first one is about to post."""
        self.write_waiting.clear()
        self._write_gate = threading.Event()
        return self._write_gate

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
            return self._issue_route(request, [unquote(p) for p in path.split("/")[5:]])
        return Reply.json({"errorMessages": [f"no route {request.method} {path}"]}, 404)

    # -- issues, comments, properties --

    def _find(self, id_or_key: str) -> dict[str, Any] | None:
        issue = self.issues.get(id_or_key) or next(
            (i for i in self.issues.values() if i["id"] == id_or_key), None
        )
        if issue is None or "browse" in self.denied.get(issue["key"], set()):
            return None
        return issue

    def _issue_route(self, request: RecordedRequest, parts: list[str]) -> Reply:
        issue = self._find(parts[0])
        if issue is None:
            return Reply.json({"errorMessages": [NO_ISSUE], "errors": {}}, 404)
        method, rest = request.method, parts[1:]
        if not rest and method == "GET":
            fields = (request.param("fields") or "").split(",") if request.param("fields") else None
            properties = [p for p in (request.param("properties") or "").split(",") if p]
            return Reply.json(self._render(issue, fields, properties))
        if rest[:1] == ["comment"]:
            return self._comment_route(request, issue, rest[1:])
        if rest[:1] == ["properties"]:
            return self._property_route(request, issue, rest[1:])
        return Reply.json({"errorMessages": [f"no route {method} {request.path}"]}, 404)

    def _comment_route(self, request: RecordedRequest, issue: dict[str, Any], rest: list[str]) -> Reply:
        key, method = issue["key"], request.method
        if not rest and method == "GET":
            comments = self.comments.get(key, [])
            start = int(request.param("startAt") or 0)
            size = max(1, min(int(request.param("maxResults") or 5000), self.comment_page_size))
            return Reply.json(
                {
                    "startAt": start,
                    "maxResults": size,
                    "total": len(comments),
                    "comments": comments[start : start + size],
                }
            )
        if method in ("POST", "PUT"):
            self._wait_at_gate()
        if not rest and method == "POST":
            if "comment" in self.denied.get(key, set()):
                return Reply.json(
                    {
                        "errorMessages": ["You do not have the permission to comment on this issue."],
                        "errors": {},
                    },
                    403,
                )
            body = request.json() or {}
            problem = adf_problem(body.get("body"))
            if problem:
                return Reply.json({"errorMessages": [], "errors": {"comment": problem}}, 400)
            return Reply.json(self._create_comment(issue, body["body"], self.bot), 201)
        comment = next(
            (c for c in self.comments.get(key, []) if c["id"] == (rest[0] if rest else None)), None
        )
        if comment is None:
            return Reply.json({"errorMessages": ["Can not find a comment for the id."], "errors": {}}, 404)
        if method == "GET":
            return Reply.json(comment)
        if method == "DELETE":
            self.delete_comment(key, comment["id"])
            return Reply(204)
        if method == "PUT":
            if comment["author"]["accountId"] != BOT_ACCOUNT_ID or "comment" in self.denied.get(key, set()):
                return Reply.json(
                    {"errorMessages": ["You do not have the permission to edit this comment."], "errors": {}},
                    403,
                )
            body = request.json() or {}
            problem = adf_problem(body.get("body"))
            if problem:
                return Reply.json({"errorMessages": [], "errors": {"comment": problem}}, 400)
            comment["body"] = body["body"]
            comment["updated"] = jira_time(datetime.now(UTC))
            comment["updateAuthor"] = self.bot
            return Reply.json(comment)
        return Reply.json({"errorMessages": [f"no route {method} {request.path}"]}, 405)

    def _create_comment(
        self, issue: dict[str, Any], body: dict[str, Any], author: dict[str, Any]
    ) -> dict[str, Any]:
        comment_id = str(next(self._comment_ids))
        now = jira_time(datetime.now(UTC))
        comment = {
            "self": f"{self.origin}/rest/api/3/issue/{issue['id']}/comment/{comment_id}",
            "id": comment_id,
            "author": author,
            "body": body,
            "updateAuthor": author,
            "created": now,
            "updated": now,
            "jsdPublic": True,
        }
        self.comments.setdefault(issue["key"], []).append(comment)
        return comment

    def _wait_at_gate(self) -> None:
        gate = self._write_gate
        if gate is not None:
            self.write_waiting.set()
            gate.wait(timeout=30)

    def _property_route(self, request: RecordedRequest, issue: dict[str, Any], rest: list[str]) -> Reply:
        key, method = issue["key"], request.method
        stored = self.properties.get(key, {})
        if not rest and method == "GET":
            return Reply.json(
                {
                    "keys": [
                        {"self": f"{self.origin}/rest/api/3/issue/{key}/properties/{n}", "key": n}
                        for n in stored
                    ]
                }
            )
        if not rest:
            return Reply.json({"errorMessages": [f"no route {method} {request.path}"]}, 405)
        name = rest[0]
        if method == "GET":
            if name not in stored:
                return Reply.json(
                    {"errorMessages": [f"The property with key '{name}' does not exist."], "errors": {}}, 404
                )
            return Reply.json({"key": name, "value": stored[name]})
        if "edit" in self.denied.get(key, set()):
            return Reply.json(
                {
                    "errorMessages": ["You do not have permission to edit this issue's properties."],
                    "errors": {},
                },
                403,
            )
        if method == "PUT":
            if len(request.body) > PROPERTY_MAX_BYTES:
                return Reply.json({"errorMessages": ["The property value is too long."], "errors": {}}, 400)
            try:
                value = json.loads(request.body)
            except ValueError:
                return Reply.json(
                    {"errorMessages": ["The property value must be valid JSON."], "errors": {}}, 400
                )
            created = name not in stored
            self.properties.setdefault(key, {})[name] = value
            return Reply(201 if created else 200)
        if method == "DELETE":
            if stored.pop(name, None) is None:
                return Reply.json({"errorMessages": [f"The property with key '{name}' does not exist."]}, 404)
            return Reply(204)
        return Reply.json({"errorMessages": [f"no route {method} {request.path}"]}, 405)

    def _authorised(self, request: RecordedRequest) -> bool:
        expected = base64.b64encode(f"{self.email}:{self.api_token}".encode()).decode()
        return request.header("authorization") == f"Basic {expected}"

    def _search(self, request: RecordedRequest) -> Reply:
        if request.method == "POST":
            body = request.json() or {}
            jql, token = body.get("jql", ""), body.get("nextPageToken")
            fields, max_results = body.get("fields"), body.get("maxResults")
            properties = list(body.get("properties") or [])
        else:
            jql, token = request.param("jql") or "", request.param("nextPageToken")
            fields = (request.param("fields") or "").split(",") if request.param("fields") else None
            max_results = request.param("maxResults")
            properties = [p for p in (request.param("properties") or "").split(",") if p]
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
        reply: dict[str, Any] = {"issues": [self._render(issue, fields, properties) for issue in page]}
        if offset + size < len(matches):
            reply["nextPageToken"] = _encode_token(offset + size, jql)
            reply["isLast"] = False
        else:
            reply["isLast"] = True
        return Reply.json(reply)

    def _render(
        self, issue: dict[str, Any], fields: list[str] | None, properties: list[str] | None = None
    ) -> dict[str, Any]:
        rendered: dict[str, Any] = {
            "id": issue["id"],
            "key": issue["key"],
            "self": f"{self.origin}/rest/api/3/issue/{issue['id']}",
        }
        if fields is None or "*all" in fields or "*navigable" in fields:
            rendered["fields"] = issue["fields"]
        else:
            rendered["fields"] = {f: issue["fields"].get(f) for f in fields if f in issue["fields"]}
        if properties:
            stored = self.properties.get(issue["key"], {})
            rendered["properties"] = {p: stored[p] for p in properties if p in stored}
        return rendered

    # -- the JQL subset --

    def _evaluate(self, where: str, order: str) -> list[dict[str, Any]]:
        predicates = [p for p in (self._predicate(c) for c in _conjuncts(where) if c) if p is not None]
        visible = [i for i in self.issues.values() if "browse" not in self.denied.get(i["key"], set())]
        issues = [i for i in visible if all(p(i) for p in predicates)]
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
            if field == "project":
                self._check_projects(wanted)
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
        if field == "project" and op in ("=", "!="):
            self._check_projects({value})
        if op == "~":
            return lambda i: value in json.dumps(i["fields"]).lower()
        return lambda i: (value in {v.lower() for v in _values(i, field)}) == (op == "=")

    def _check_projects(self, wanted: set[str]) -> None:
        known = {p.lower() for p in self.projects} | {f"project {p}".lower() for p in self.projects}
        for value in sorted(wanted - known):
            raise ValueError(f"The value '{value.upper()}' does not exist for the field 'project'.")

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
    if field == "statuscategory":
        category = (fields.get("status") or {}).get("statusCategory") or {}
        return [v for v in (category.get("key"), category.get("name")) if v]
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


# --- ADF validation (a strict subset of the published schema, enough to catch a broken renderer) -------

_INLINE = {"text", "hardBreak", "mention", "emoji", "inlineCard", "date", "status"}
_BLOCK = {
    "paragraph", "heading", "bulletList", "orderedList", "rule", "panel", "blockquote", "codeBlock",
    "table", "expand",
}  # fmt: skip
_CHILDREN: dict[str, set[str]] = {
    "doc": _BLOCK,
    "paragraph": _INLINE,
    "heading": _INLINE,
    "bulletList": {"listItem"},
    "orderedList": {"listItem"},
    "listItem": {"paragraph", "bulletList", "orderedList", "codeBlock"},
    "panel": {"paragraph", "heading", "bulletList", "orderedList", "rule"},
    "blockquote": {"paragraph", "bulletList", "orderedList", "codeBlock"},
    "codeBlock": {"text"},
    "table": {"tableRow"},
    "tableRow": {"tableHeader", "tableCell"},
    "tableHeader": _BLOCK - {"table"},
    "tableCell": _BLOCK - {"table"},
    "expand": _BLOCK - {"expand"},
}
_MARKS = {"strong", "em", "code", "link", "strike", "underline", "subsup", "textColor"}
_KEYS = {"type", "content", "attrs", "marks", "text", "version"}
_PANEL_TYPES = {"info", "note", "warning", "success", "error"}


def adf_problem(doc: Any) -> str | None:
    """None when `doc` is an ADF document Jira would accept, else what is wrong with it (Jira-like)."""
    if not isinstance(doc, dict) or doc.get("type") != "doc" or doc.get("version") != 1:
        return 'Comment body must be an ADF document: {"type": "doc", "version": 1, "content": [...]}.'
    problem = _node_problem(doc, "doc")
    if problem:
        return f"INVALID_INPUT: {problem}"
    if _text_length(doc) > COMMENT_MAX_CHARS:
        return (
            f"The entered text is too long. It exceeds the allowed limit of {COMMENT_MAX_CHARS:,} characters."
        )
    return None


def _node_problem(node: Any, path: str) -> str | None:
    if not isinstance(node, dict) or not isinstance(node.get("type"), str):
        return f"{path}: not a node"
    kind = node["type"]
    extra = set(node) - _KEYS
    if extra:
        return f"{path}: unknown keys {sorted(extra)}"
    attrs = node.get("attrs") or {}
    if kind == "text":
        if not isinstance(node.get("text"), str) or not node["text"]:
            return f"{path}: text nodes need non-empty text"
        for mark in node.get("marks") or []:
            if not isinstance(mark, dict) or mark.get("type") not in _MARKS:
                return f"{path}: unknown mark {mark!r}"
            if mark["type"] == "link" and not re.match(
                r"^(https?|mailto|file):", str((mark.get("attrs") or {}).get("href", ""))
            ):
                return f"{path}: link marks need attrs.href with a URL"
        return None
    if kind == "heading" and attrs.get("level") not in range(1, 7):
        return f"{path}: heading level must be 1-6"
    if kind == "panel" and attrs.get("panelType") not in _PANEL_TYPES:
        return f"{path}: unknown panelType {attrs.get('panelType')!r}"
    if kind in ("mention",) and not attrs.get("id"):
        return f"{path}: mention needs attrs.id"
    if kind == "emoji" and not attrs.get("shortName"):
        return f"{path}: emoji needs attrs.shortName"
    if kind == "inlineCard" and not attrs.get("url"):
        return f"{path}: inlineCard needs attrs.url"
    allowed = _CHILDREN.get(kind)
    content = node.get("content")
    if allowed is None:
        if kind not in _INLINE | {"rule"}:
            return f"{path}: unknown node type {kind!r}"
        return f"{path}: {kind} takes no content" if content else None
    if content is None:
        content = []
    if not isinstance(content, list):
        return f"{path}: content must be a list"
    if kind in ("bulletList", "orderedList", "table", "tableRow", "listItem") and not content:
        return f"{path}: {kind} needs content"
    if kind == "listItem" and content[0].get("type") not in ("paragraph", "codeBlock"):
        return f"{path}: a listItem starts with a paragraph"
    for i, child in enumerate(content):
        child_type = child.get("type") if isinstance(child, dict) else None
        if child_type not in allowed:
            return f"{path}.content[{i}]: {child_type!r} is not allowed in {kind}"
        if kind == "codeBlock" and child.get("marks"):
            return f"{path}.content[{i}]: code blocks take no marks"
        problem = _node_problem(child, f"{path}.content[{i}]")
        if problem:
            return problem
    return None


def _text_length(node: Any) -> int:
    if isinstance(node, list):
        return sum(_text_length(child) for child in node)
    if not isinstance(node, dict):
        return 0
    return len(node.get("text") or "") + _text_length(node.get("content"))
