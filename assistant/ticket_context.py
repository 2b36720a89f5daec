"""A chat message that names a Jira ticket (`TPI-123`) starts from that ticket's staffing request.

Before the turn runs, the message is stored again with the ticket's request appended (summary,
description, configured fields, what was understood), so the model and the search-only responder both
work from it, and every later turn in the thread still has it in its history: "only Munich" refines the
ticket's request. Used by Slack and Teams alike (it runs in delivery, before the engine).

Only keys of `SKILLMATCH_JIRA_PROJECT` when it is set (so "ISO-9001" is never fetched); a key Jira does
not know is left alone; a ticket the Jira user may not read is mentioned as such, so the assistant can
say why it cannot see it. Nothing happens without Jira credentials.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

from sqlalchemy.orm import Session, sessionmaker

from assistant.config import AssistantSettings
from assistant.jobs import ticket_keys, ticket_request
from assistant.sessions import SessionStore
from skillmatch.ingest.http import SourceAuthError, SourceError, SourceStatusError

log = logging.getLogger(__name__)

MARKER = "\n\n--- from Jira ---\n"  # what separates the user's words from the tickets' requests
MAX_TICKETS = 3  # per message: a message naming ten tickets is a list, not a request


def jira_configured(settings: AssistantSettings) -> bool:
    return bool(settings.jira_base_url and settings.jira_api_token)


class TicketContext:
    def __init__(
        self,
        settings: AssistantSettings,
        sessions: sessionmaker[Session],
        store: SessionStore,
        today: Callable[[], date] = date.today,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.store = store
        self.today = today

    def seed(self, message_id: int) -> None:
        """Append the requests of the tickets the message names (once; blocking HTTP: run in a thread)."""
        message = self.store.message(message_id)
        text = message.content or ""
        if MARKER in text:
            return  # seeded by an earlier attempt
        projects = [self.settings.jira_project] if self.settings.jira_project else None
        keys = ticket_keys(text, projects)[:MAX_TICKETS]
        blocks = [block for key in keys if (block := self._block(key))]
        if blocks:
            self.store.replace_content(message_id, text + MARKER + "\n\n".join(blocks))

    def _block(self, key: str) -> str | None:
        try:
            request = ticket_request(key, settings=self.settings, sessions=self.sessions, today=self.today())
        except SourceAuthError:
            return f"Jira ticket {key}: not readable with the assistant's Jira account (no permission)."
        except SourceStatusError as exc:
            if exc.status == 404:
                return None  # not a ticket after all
            log.warning("ticket context: reading %s failed: %s", key, type(exc).__name__)
            return f"Jira ticket {key}: Jira could not be read just now."
        except SourceError as exc:
            log.warning("ticket context: reading %s failed: %s", key, type(exc).__name__)
            return f"Jira ticket {key}: Jira could not be read just now."
        return request.as_context()
