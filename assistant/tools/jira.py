"""Jira for the model: what a person actually worked on (their issues, most recently updated first), and
what a staffing request ticket asks for (`get_jira_ticket`, read live from Jira)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from pydantic import Field, field_validator
from sqlalchemy import func, select

from assistant.tools.base import LIST_SEPARATOR, Arguments, Output, Tool, ToolContext, ToolError, trim
from assistant.tools.people import resolve_person
from skillmatch.ingest.http import SourceAuthError, SourceConfigError, SourceError, SourceStatusError
from skillmatch.models import JiraIssue

SUMMARY_CHARS = 140
TICKET_DESCRIPTION_CHARS = 1200


class JiraArguments(Arguments):
    person: str | int = Field(description="The person's person_id or full name.")
    since: date | None = Field(
        None, description="Only issues updated on or after this day (ISO date, YYYY-MM-DD)."
    )
    limit: int = Field(20, ge=1, le=100, description="At most this many issues, most recent first.")


def get_jira_history(args: JiraArguments, context: ToolContext) -> Output:
    with context.sessions() as session:
        person = resolve_person(session, args.person)
        where = [JiraIssue.person_id == person.id]
        if args.since is not None:
            where.append(JiraIssue.updated >= datetime.combine(args.since, time.min))
        total = session.scalar(select(func.count()).select_from(JiraIssue).where(*where)) or 0
        issues = session.scalars(
            select(JiraIssue)
            .where(*where)
            .order_by(JiraIssue.updated.desc().nulls_last(), JiraIssue.key)
            .limit(args.limit)
        ).all()
        records: list[dict[str, Any]] = [
            {
                "key": issue.key,
                "summary": trim(issue.summary, SUMMARY_CHARS),
                "type": issue.issue_type,
                "status": issue.status,
                "project": issue.project_key,
                "updated": issue.updated,
                "resolved": issue.resolved,
                "labels": issue.labels or [],
            }
            for issue in issues
        ]
        linked = person.jira_account_id is not None
    extras: dict[str, Any] = {"person": person.name, "person_id": person.id}
    period = f" updated since {args.since}" if args.since else ""
    if not records and not linked:
        extras["note"] = f"{person.name} has no Jira account linked, so there is no Jira history."
    elif not records:
        extras["note"] = f"No Jira issues assigned to {person.name}{period}."
    elif total > len(records):
        extras["note"] = f"Showing the {len(records)} most recent of {total} issues{period}."
    return Output("issues", records, extras)


JIRA = Tool(
    name="get_jira_history",
    description="A person's Jira issues (what they actually worked on recently): key, summary, type, "
    "status, project, dates and labels, most recently updated first.",
    arguments=JiraArguments,
    status="Checking Jira history…",
    run=get_jira_history,
)


# --- get_jira_ticket -----------------------------------------------------------------------------------


class TicketArguments(Arguments):
    key: str = Field(
        pattern=r"^\s*[A-Za-z][A-Za-z0-9_]{1,9}-[1-9][0-9]{0,8}\s*$",
        description="The ticket key, e.g. STAFF-123.",
    )

    @field_validator("key")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.strip().upper()


def get_jira_ticket(args: TicketArguments, context: ToolContext) -> Output:
    from assistant.jobs.comment import understood_text
    from assistant.jobs.requests import ticket_request

    try:
        request = ticket_request(args.key, sessions=context.sessions, today=context.today)
    except SourceConfigError as exc:
        raise ToolError(f"Jira is not configured here ({exc}), so tickets cannot be read.") from None
    except SourceStatusError as exc:
        if exc.status == 404:
            raise ToolError(f"Ticket {args.key} does not exist, or the Jira user may not see it.") from None
        raise ToolError(f"Jira refused to show {args.key} (HTTP {exc.status}).") from None
    except SourceAuthError as exc:
        raise ToolError(f"Jira refused access (HTTP {exc.status}); the credentials need checking.") from None
    except SourceError:
        raise ToolError("Jira is unreachable right now; try again later.") from None
    c = request.constraints
    assert c is not None
    record: dict[str, Any] = {
        "key": request.key,
        "status": request.status,
        "summary": request.summary,
        "description": trim(request.description, TICKET_DESCRIPTION_CHARS),
        "role": c.role,
        "skills": LIST_SEPARATOR.join(c.skills),
        "domain": c.domain,
        "seniority": c.seniority,
        "locations": LIST_SEPARATOR.join(c.locations),
        "language": c.language.replace(":", "-") if c.language else None,
        "start": c.start,
        "end": c.end,
        "headcount": c.headcount,
        "understood_by": c.extractor,
        "url": request.url,
    }
    extras: dict[str, Any] = {"understood": understood_text(c)}
    if not c.usable:
        extras["note"] = (
            f"Not a usable staffing request yet: missing {', '.join(c.missing) or 'role or skills'}."
        )
    elif "period" in c.missing:
        extras["note"] = "The ticket names no period; ask for one before checking availability."
    return Output("ticket", [record], extras)


TICKET = Tool(
    name="get_jira_ticket",
    description="A staffing request ticket from Jira by its key (e.g. STAFF-123): summary, description, "
    "and what it asks for (role, skills, domain, seniority, locations, language, period, headcount).",
    arguments=TicketArguments,
    status="Reading the Jira ticket…",
    run=get_jira_ticket,
)
