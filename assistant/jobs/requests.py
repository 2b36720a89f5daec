"""A Jira ticket as a staffing request, independent of who asks: the board job, the ticket job, the chat
tool `get_jira_ticket`, or a Slack/Teams conversation that names a ticket key.

    keys = ticket_keys("Can you staff ABC-123?")          # ["ABC-123"]
    request = ticket_request("ABC-123")                   # fetched from Jira, constraints understood
    request.as_context()                                  # a compact text block to seed a conversation

The request is the summary, the description (ADF -> text) and the configured custom fields
(SKILLMATCH_JIRA_FIELDS: start, end, location, language, headcount). `ticket_request` fills in what was
understood: what the staffing job's model read last time when the ticket has not changed since (stored
per ticket), else the rule-based parser. Errors are the Jira client's `SourceError`s (404: no such ticket
or not visible to the Jira user; 401/403: credentials or permissions).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from skillmatch.ingest.jira import adf_to_text

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from assistant.config import AssistantSettings
    from assistant.jobs.constraints import Constraints

# Jira keys: a project key (a letter, then letters, digits or _, 2-10 long) and an issue number.
TICKET_KEY_RE = re.compile(r"(?<![\w-])([A-Z][A-Z0-9_]{1,9}-[1-9][0-9]{0,8})(?![\w-])")
BASE_FIELDS = ("summary", "description", "status", "issuetype", "project", "updated")
DESCRIPTION_CHARS = 6000  # what the model reads of a description; the rest is rarely the request
SEARCH_CHARS = 1500  # what the search reads: the opening states the need, the tail is boilerplate
EXTRACTION_VERSION = "jira-request.v1"  # part of the input hash: a new prompt reads every ticket again
FIELD_LABELS = {
    "start": "Start",
    "end": "End",
    "location": "Location",
    "language": "Language",
    "headcount": "Headcount",
}


def ticket_keys(text: str, projects: Iterable[str] | None = None) -> list[str]:
    """Ticket keys named in `text`, first mention first, once each; only these projects when given."""
    allowed = {p.upper() for p in projects} if projects is not None else None
    keys = [m.group(1) for m in TICKET_KEY_RE.finditer(text or "")]
    return [k for k in dict.fromkeys(keys) if allowed is None or k.split("-")[0] in allowed]


@dataclass(frozen=True)
class TicketRequest:
    key: str
    summary: str
    description: str  # plain text from ADF, at most DESCRIPTION_CHARS
    fields: dict[str, str]  # configured fields that had a value, as text: {"start": "2027-01-04", ...}
    status: str | None
    url: str  # where a person opens the ticket
    constraints: Constraints | None = None  # filled in by `ticket_request` and the jobs

    @property
    def empty(self) -> bool:
        return not (self.summary.strip() or self.description.strip())

    def text(self) -> str:
        """Everything the request says, as one text (what the parser and the model read)."""
        lines = [f"{FIELD_LABELS[name]}: {value}" for name, value in self.fields.items()]
        return "\n\n".join(
            part for part in (self.summary, self.description, "\n".join(lines)) if part.strip()
        )

    def search_text(self) -> str:
        return " ".join(f"{self.summary}. {self.description[:SEARCH_CHARS]}".split()).strip(" .")

    def input_hash(self, reader: str) -> str:
        """Identity of what a reader ("model" or "parser") was given: unchanged ticket, same reading."""
        payload = {
            "version": EXTRACTION_VERSION,
            "reader": reader,
            "key": self.key,
            "summary": self.summary,
            "description": self.description,
            "fields": self.fields,
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    def as_context(self) -> str:
        """A compact block to put in front of a conversation about this ticket."""
        lines = [f"Jira ticket {self.key} ({self.status or 'status unknown'}): {self.summary}", self.url]
        if self.description:
            lines.append(f"Description: {self.description[:SEARCH_CHARS]}")
        lines.extend(f"{FIELD_LABELS[name]}: {value}" for name, value in self.fields.items())
        if self.constraints is not None:
            from assistant.jobs.comment import understood_text

            lines.append(f"Understood: {understood_text(self.constraints)}")
        return "\n".join(lines)


def request_fields(field_map: dict[str, str]) -> list[str]:
    """The issue fields to fetch: the base ones plus the configured custom fields."""
    return list(dict.fromkeys([*BASE_FIELDS, *field_map.values()]))


def request_from_issue(issue: dict[str, Any], field_map: dict[str, str], url: str) -> TicketRequest:
    fields = issue.get("fields") or {}
    values = {name: field_text(fields.get(field_id)) for name, field_id in field_map.items()}
    status = fields.get("status")
    return TicketRequest(
        key=issue["key"],
        summary=" ".join(str(fields.get("summary") or "").split()),
        description=adf_to_text(fields.get("description"), DESCRIPTION_CHARS),
        fields={name: value for name, value in values.items() if value},
        status=status.get("name") if isinstance(status, dict) else None,
        url=url,
    )


def field_text(value: Any) -> str:
    """A custom field's value as text: strings, numbers, options ({"value"}), users/versions ({"name"} or
    {"displayName"}), lists of those, and ADF (text areas)."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else str(value)
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, list):
        return ", ".join(t for t in (field_text(v) for v in value) if t)
    if isinstance(value, dict):
        if value.get("type") == "doc":
            return " ".join(adf_to_text(value, 500).split())
        for name in ("value", "name", "displayName", "key"):
            if isinstance(value.get(name), str | int | float):
                child = field_text(value.get("child"))
                text = field_text(value[name])
                return f"{text} / {child}" if child else text
    return ""


def ticket_request(
    key: str,
    *,
    settings: AssistantSettings | None = None,
    sessions: sessionmaker[Session] | None = None,
    today: date | None = None,
) -> TicketRequest:
    """The ticket fetched from Jira, with what it asks for. Settings default to the environment's; with
    `sessions`, what the staffing job's model understood is reused when the ticket has not changed."""
    from assistant.config import AssistantSettings
    from assistant.jobs.constraints import parse_constraints
    from assistant.jobs.tickets import stored_constraints
    from skillmatch.ingest.jira import JiraClient

    settings = settings or AssistantSettings()
    field_map = settings.jira_request_fields
    with JiraClient(settings) as jira:
        issue = jira.issue(key.strip().upper(), fields=request_fields(field_map))
        request = request_from_issue(issue, field_map, jira.browse_url(issue["key"]))
    constraints = stored_constraints(sessions, request) if sessions is not None else None
    return replace(request, constraints=constraints or parse_constraints(request, today or date.today()))
