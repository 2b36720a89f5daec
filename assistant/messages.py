"""What the assistant says outside of an answer, once for every channel (one function per message).

Channels render these (Slack mrkdwn, Teams Markdown); they never write their own wording for the same
situation. Plain text with at most *bold* and `code`, which both platforms show sensibly.
"""

from __future__ import annotations

REFUSALS = {
    "channel": "This assistant isn't enabled in this channel. Send me a direct message instead, "
    "or ask the SkillMatch admins to enable this channel.",
    "user": "Sorry, SkillMatch isn't enabled for your account yet. Please ask the SkillMatch admins.",
    "workspace": "SkillMatch isn't enabled for this workspace. Please ask the SkillMatch admins.",
    "tenant": "SkillMatch isn't enabled for your organisation. Please ask the SkillMatch admins.",
}


def refusal_text(reason: str) -> str:
    """Allowlist refusals: "channel", "user", "workspace" or "tenant" (others get a general text)."""
    return REFUSALS.get(reason, "SkillMatch isn't available here. Please ask the SkillMatch admins.")


def empty_request_text() -> str:
    return "Tell me who you are looking for, e.g. “a senior Java developer for a bank, from January”."


def too_long_text(chars: int, limit: int) -> str:
    return (
        f"That message is {chars:,} characters long; I can take up to {limit:,}. "
        "Please send the staffing request itself, in short."
    )


def refuse_request(text: str, *, max_chars: int) -> str | None:
    """Why a message cannot be a request at all (empty, too long), or None when it can."""
    stripped = text.strip()
    if not stripped:
        return empty_request_text()
    if len(stripped) > max_chars:
        return too_long_text(len(stripped), max_chars)
    return None


def queued_text(ahead: int) -> str:
    line = "⏳ Many requests right now: yours is queued and I'll answer right here as soon as I can."
    return line if ahead <= 0 else f"{line} ({ahead} ahead of you)"


def queued_status(ahead: int) -> str:
    return "is queued, answering shortly…" if ahead <= 0 else f"is queued ({ahead} ahead), answering shortly…"


def error_text() -> str:
    return "Sorry, something went wrong on my side. Please try again in a moment; the team has been notified."


def gave_up_text() -> str:
    return (
        "Sorry, I could not answer this message: it failed twice on my side. "
        "Please rephrase it or try again later; the team has been notified."
    )


def file_share_text() -> str:
    return (
        "I don't read files shared in chat. CVs come from SharePoint and the CV folder and are "
        "searchable after the next sync. Tell me in words who you are looking for."
    )


def feedback_ack_text(positive: bool) -> str:
    return "Thanks — noted 👍" if positive else "Thanks — noted 👎 This helps us improve the answers."


def loading_messages() -> list[str]:
    """What a platform may rotate through while a turn runs: the tools' own status lines, then one more."""
    from assistant.tools import status_text, tool_names

    return [*dict.fromkeys(status_text(name) for name in tool_names()), "Comparing candidates…"]
