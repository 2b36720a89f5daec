"""The one comment the staffing jobs keep on a ticket, in ADF: suggested people (with evidence,
availability in the period and CV links) and what was understood, or a request for the missing details.

The body is a pure function of the ticket's reading and the shortlist (no timestamps), so its hash says
whether anything changed since the last run. The footer says the comment was generated, how to give
feedback, and carries the marker by which a later run recognises its own comment.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal

from assistant.jobs import adf
from assistant.jobs.constraints import Constraints, language_label
from assistant.jobs.requests import TicketRequest
from assistant.jobs.shortlist import Candidate, Shortlist
from assistant.masking import mask_text
from skillmatch.ingest.jira import adf_to_text

MARKER = "skillmatch:staffing"  # visible in the footer; with the bot as author it identifies our comment
PROPERTY = "skillmatch.staffing"  # issue property mirroring {commentId, resultHash} for other tools
MAX_SKILLS_SHOWN = 12

CommentKind = Literal["suggestions", "missing_details"]


@dataclass(frozen=True)
class Rendered:
    kind: CommentKind
    body: dict[str, Any]  # ADF document
    hash: str  # of the body: equal hashes, nothing to update

    @property
    def text(self) -> str:
        return adf_to_text(self.body, max_chars=100_000)


def _rendered(kind: CommentKind, body: dict[str, Any]) -> Rendered:
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return Rendered(kind, body, digest)


def understood_text(c: Constraints) -> str:
    """One line: what the request was read as."""
    parts: list[str] = []
    if c.role:
        parts.append(c.role)
    if c.skills:
        shown = c.skills[:MAX_SKILLS_SHOWN]
        more = f" (+{len(c.skills) - len(shown)} more)" if len(c.skills) > len(shown) else ""
        parts.append("skills " + ", ".join(shown) + more)
    if c.domain:
        parts.append(f"domain {c.domain}")
    if c.seniority:
        parts.append(c.seniority)
    if c.locations:
        parts.append("in " + ", ".join(c.locations))
    if c.language:
        parts.append(language_label(c.language))
    if c.start and c.end:
        parts.append(f"{c.start.isoformat()} to {c.end.isoformat()}")
    elif c.start:
        parts.append(f"from {c.start.isoformat()}")
    if c.headcount:
        parts.append(f"{c.headcount} {'person' if c.headcount == 1 else 'people'}")
    return mask_text("; ".join(parts)) if parts else "nothing specific"


def _reader(c: Constraints) -> str:
    return "a language model" if c.extractor == "model" else "rules (no language model)"


def _footer(c: Constraints, feedback_hint: str) -> list[dict[str, Any]]:
    return [
        adf.rule(),
        adf.paragraph(
            adf.em(
                f"Generated automatically by SkillMatch from this ticket's summary, description and fields, "
                f"read by {_reader(c)}. It is updated when the ticket or the staffing data changes. "
                f"Feedback: {feedback_hint}. "
            ),
            adf.text(MARKER, "code"),
        ),
    ]


def _percent(share: float) -> str:
    return f"{round(share * 100):d} % free"


def _availability_line(shortlist: Shortlist) -> str | None:
    if shortlist.period is None:
        return "The ticket names no period, so availability was not checked (add a start and end date)."
    start, end = (d.isoformat() for d in shortlist.period)
    line = f"Availability: share of working time free from {start} to {end}, from the ERP (MOCO)"
    if shortlist.available_only:
        line += f"; only people with at least {round(shortlist.min_availability * 100)} % free are listed"
    return line + "."


def _candidate_item(c: Candidate, with_period: bool) -> list[dict[str, Any]]:
    facts = [f for f in (c.title, c.location, c.seniority, c.languages) if f]
    if with_period:
        facts.append(
            _percent(c.free_share) if c.free_share is not None else "availability unknown (not in MOCO)"
        )
    first = adf.paragraph(adf.strong(c.name), " — " + " · ".join(facts) if facts else None)
    second: list[adf.Inline | None] = []
    if c.evidence:
        second.append(f"“{c.evidence}”")
    if c.skills:
        second.append(("  " if second else "") + "Matching: " + ", ".join(c.skills[:MAX_SKILLS_SHOWN]))
    if c.cv_name:
        second.append(("  " if second else "") + "CV: ")
        second.append(adf.link(c.cv_name, c.cv_url))
    return [first, adf.paragraph(*second)] if second else [first]


def render_suggestions(
    request: TicketRequest, constraints: Constraints, shortlist: Shortlist, *, feedback_hint: str
) -> Rendered:
    blocks: list[dict[str, Any] | None] = [
        adf.heading(3, "Staffing suggestions"),
        adf.paragraph(adf.strong("Understood: "), understood_text(constraints)),
    ]
    if constraints.note:
        blocks.append(adf.paragraph(adf.em(constraints.note)))
    blocks.append(adf.paragraph(_availability_line(shortlist)))
    if shortlist.candidates:
        with_period = shortlist.period is not None
        blocks.append(adf.ordered_list(*(_candidate_item(c, with_period) for c in shortlist.candidates)))
        if shortlist.note:
            blocks.append(adf.paragraph(adf.em(shortlist.note)))
    elif shortlist.note:
        blocks.append(adf.paragraph(shortlist.note))
    else:
        advice = "drop a constraint or describe the need in more general words"
        if shortlist.available_only:
            advice = (
                "nobody is free enough in the period; widen the period or ask without the availability filter"
            )
        blocks.append(adf.paragraph(f"Nobody matched this request: {advice}."))
    return _rendered("suggestions", adf.doc(*blocks, *_footer(constraints, feedback_hint)))


_ASK = {
    "role or skills": "the role or the skills needed (e.g. “senior Java developer with Kafka”)",
    "period": "the period: start and end date",
    "summary": "a summary",
    "description": "a description of the work",
}


def render_missing(request: TicketRequest, constraints: Constraints, *, feedback_hint: str) -> Rendered:
    wanted = [m for m in constraints.missing if m in _ASK] or ["role or skills"]
    blocks: list[dict[str, Any] | None] = [
        adf.heading(3, "More details needed for staffing suggestions"),
        adf.paragraph("SkillMatch could not tell from this ticket whom to look for. Please add:"),
        adf.bullet_list(*([adf.paragraph(_ASK[m])] for m in wanted)),
    ]
    understood = understood_text(constraints)
    if understood != "nothing specific":
        blocks.append(adf.paragraph(adf.strong("Understood so far: "), understood))
    return _rendered("missing_details", adf.doc(*blocks, *_footer(constraints, feedback_hint)))


def is_ours(comment: dict[str, Any], bot_account_id: str | None) -> bool:
    """A comment this bot wrote that carries the marker."""
    author = comment.get("author") or {}
    if bot_account_id is not None and author.get("accountId") != bot_account_id:
        return False
    return MARKER in adf_to_text(comment.get("body"), max_chars=100_000)
