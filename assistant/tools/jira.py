"""What a person actually worked on: their Jira issues, most recently updated first."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from pydantic import Field
from sqlalchemy import func, select

from assistant.tools.base import Arguments, Output, Tool, ToolContext, trim
from assistant.tools.people import resolve_person
from skillmatch.models import JiraIssue

SUMMARY_CHARS = 140


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
