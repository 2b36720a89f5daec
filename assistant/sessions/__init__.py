"""Thread key <-> conversation, history within a token budget, event dedupe, in-order turns per thread.

`keys` names threads, `store` keeps conversations and messages, `window` fits a history into a budget,
`serializer` runs the turns of one thread one at a time and in order, across replicas on PostgreSQL.
"""

from assistant.sessions.keys import thread_key_console, thread_key_slack, thread_key_teams
from assistant.sessions.serializer import ThreadSerializer
from assistant.sessions.store import (
    FAILED,
    OK,
    PENDING,
    PROCESSING,
    RETRY,
    RETRYING,
    ConversationRef,
    NewMessage,
    SessionStore,
    StoredMessage,
)
from assistant.sessions.window import message_tokens

__all__ = [
    "FAILED",
    "OK",
    "PENDING",
    "PROCESSING",
    "RETRY",
    "RETRYING",
    "ConversationRef",
    "NewMessage",
    "SessionStore",
    "StoredMessage",
    "ThreadSerializer",
    "message_tokens",
    "thread_key_console",
    "thread_key_slack",
    "thread_key_teams",
]
