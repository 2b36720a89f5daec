"""Staffing requests from Jira: batch jobs that answer request tickets with one comment each.

    skillmatch jobs jira-board [--project KEY | --jql JQL] [--dry-run] [--limit N] [--available-only]
    skillmatch jobs jira-ticket KEY [--dry-run] [--available-only]

Modules, in the order a ticket passes through them: `requests` (a ticket as a request, channel-neutral,
also for the chat), `constraints` and `extract` (what it asks for: the model's JSON reading, validated, or
the parser), `shortlist` (the search and availability), `comment` and `adf` (the comment in ADF),
`tickets` (per-ticket memory and lease), `process` (one ticket), `run` (the board and ticket jobs, traced),
`context` (wiring).
"""

from assistant.jobs.requests import TICKET_KEY_RE, TicketRequest, ticket_keys, ticket_request

__all__ = ["TICKET_KEY_RE", "TicketRequest", "ticket_keys", "ticket_request"]
