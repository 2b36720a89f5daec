"""Thread key <-> conversation, history within a token budget, event dedupe, in-order turns per thread.

`keys` names threads, `store` keeps conversations and messages, `window` fits a history into a budget.
Running the turns of a thread in order, across replicas, is `assistant.delivery`'s job.
"""

from assistant.sessions.keys import thread_key_console, thread_key_slack, thread_key_teams
from assistant.sessions.store import (
    ANSWERED,
    FAILED,
    OK,
    PENDING,
    PROCESSING,
    TITLE_CHARS,
    UNFINISHED,
    ConversationRef,
    MessageStatus,
    NewMessage,
    SessionStore,
    StoredMessage,
)
from assistant.sessions.window import message_tokens

__all__ = [
    "ANSWERED",
    "FAILED",
    "OK",
    "PENDING",
    "PROCESSING",
    "TITLE_CHARS",
    "UNFINISHED",
    "ConversationRef",
    "MessageStatus",
    "NewMessage",
    "SessionStore",
    "StoredMessage",
    "message_tokens",
    "thread_key_console",
    "thread_key_slack",
    "thread_key_teams",
]
