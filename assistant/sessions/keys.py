"""Thread keys: one string per chat thread, the conversation's unique key and the Langfuse session id."""

from __future__ import annotations

import uuid


def thread_key_slack(team: str, channel: str, thread_ts: str) -> str:
    return f"slack:{team}:{channel}:{thread_ts}"


def thread_key_teams(tenant: str, conversation_id: str) -> str:
    return f"teams:{tenant}:{conversation_id}"


def thread_key_console(uuid_: str | None = None) -> str:
    return f"console:{uuid_ or uuid.uuid4()}"
