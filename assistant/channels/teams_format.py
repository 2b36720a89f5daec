"""Assistant replies as Microsoft Teams messages: Markdown as Teams renders it, candidates as an Adaptive
Card with a plain-text fallback, answers split within Teams' size limits, and the Teams-only wording.

Pure functions without I/O, returning plain JSON-shaped activity fields: the Teams adapter turns them into
SDK `Activity` objects (`Activity.model_validate(...)`) and sends them; tests check them against Teams'
limits without a tenant.

What Teams renders in a bot's text message (textFormat markdown, the default; "Format your bot messages"):
bold, italic, strikethrough (not on Android), inline code and fenced code, blockquotes and links render
everywhere; headings, horizontal rules, tables and image links never do; lists only on desktop. A single
newline is not a line break in Teams (a blank line is), and HTML tags are interpreted. So
`markdown_to_teams` writes headings as bold lines, tables as aligned code blocks (narrow) or one bullet line
per row (wide), lists with bullet glyphs (the same on desktop and mobile), images as links, relative
links as their label; separates lines with a blank line; escapes `&`, `<`, `>` outside code (model
or CV text must not become HTML); keeps code blocks byte for byte (language tags dropped).

Size: Teams refuses a message over its limit with 413 `MessageSizeTooBig` and measures the whole activity
JSON in UTF-16. Its documentation said 40 KB, now says 100 KB; reports show refusals well below that, and
Microsoft staff put Adaptive Cards at about 28 KB. Everything here stays within 28 KB (`MAX_ACTIVITY_BYTES`)
for the whole activity: a text chunk's JSON-encoded text takes at most `TEXT_BUDGET_BYTES` (24 KB, about
12,000 plain characters), leaving 4 KB for the envelope (ids, conversation, entities, channelData), and a
card drops evidence, then candidates, until it fits.

The Teams-only wording (help, welcome, "started over") lives here until it moves to assistant/messages.py
with the shared texts; the shared ones (refusals, errors, queued) are rendered from there.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from assistant.channels.markdown_blocks import fenced_blocks, prose_items
from assistant.channels.slack_format import split_text
from skillmatch.text.negation import shorten  # never cut evidence so that it reverses its meaning

Record = dict[str, Any]
ConversationKind = Literal["personal", "channel", "groupChat"]

MAX_ACTIVITY_BYTES = 28 * 1024  # UTF-16 bytes of a whole outgoing activity, as Teams measures
TEXT_BUDGET_BYTES = 24 * 1024  # UTF-16 bytes of one chunk's JSON-encoded text
ENVELOPE_BYTES = MAX_ACTIVITY_BYTES - TEXT_BUDGET_BYTES  # ids, conversation, from/recipient, entities
FIELD_CHARS = 200  # a name, role or location longer than this is clipped on the card
SKILLS_CHARS = 600
CHUNK_CHARS = 12_000  # first cut, in characters; pieces are re-cut until they fit TEXT_BUDGET_BYTES
CARD_VERSION = "1.5"  # the highest Adaptive Card version Teams renders on desktop and mobile alike
ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
MAX_CARD_CANDIDATES = 8
EVIDENCE_CHARS = 400  # a card stays a card; the CV is one click away
SHORT_EVIDENCE_CHARS = 160  # when the card would be too large otherwise
TABLE_WIDTH = 72  # wider tables become bullet lines: a wrapped monospace table is unreadable
AI_ENTITY: Record = {
    "type": "https://schema.org/Message",
    "@type": "Message",
    "@context": "https://schema.org",
    "additionalType": ["AIGeneratedContent"],  # Teams shows the "AI generated" label
}  # no "@id": the SDK's model turns it into an extra "atId" key on the wire

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_BULLET = re.compile(r"^(\s*)[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^(\s*)(\d{1,9})[.)]\s+(.*)$")
_QUOTE = re.compile(r"^\s{0,3}>+\s?(.*)$")
# Spans whose inside must survive untouched: code, links and images, bare URLs, backslash escapes.
_PROTECT = re.compile(
    r"(?P<code>(?P<ticks>`+)(?P<body>.+?)(?P=ticks))"
    r"|(?P<image>!)?\[(?P<label>[^\]\n]*)\]\(\s*<?(?P<url>[^\s()<>]+(?:\([^\s()]*\)[^\s()<>]*)*)>?"
    r"(?:\s+\"[^\"]*\")?\s*\)"
    r"|(?P<bare>https?://[^\s<>]*[^\s<>.,;:!?'\")\]])"
    r"|\\(?P<escaped>[\\`*_{}\[\]()#+\-.!~|<>])"
)
_HOLE = re.compile("\x00(\\d+)\x00")
_NBSP_INDENT = "\u00a0" * 4  # leading spaces collapse in Markdown; no-break spaces keep nesting visible
_GLYPHS = "•◦▪"


# -- Markdown --


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _unmark(text: str) -> str:
    return re.sub(r"\*\*|__|`", "", text)


def _inline(text: str) -> str:
    """One line of prose: HTML escaped, links kept when Teams can open them, code untouched."""
    saved: list[str] = []

    def hold(m: re.Match[str]) -> str:
        url, label = m["url"], m["label"]
        if m["code"]:
            kept = m[0]  # Teams shows code spans literally; escaping would show the entities
        elif url:
            label = " ".join(_escape(label or "").split())
            if url.startswith(("https://", "http://", "mailto:")):
                safe = url.replace(" ", "%20").replace("<", "%3C").replace(">", "%3E")
                kept = f"[{label or _escape(url)}]({safe})"
            else:  # a relative link (`cv.md`) means nothing in Teams: its label alone stays
                kept = label
        elif m["bare"]:
            kept = m["bare"]
        else:
            # Escapes stay escapes for Teams' Markdown; an escaped < or > becomes its entity.
            kept = _escape(m["escaped"]) if m["escaped"] in "<>" else "\\" + m["escaped"]
        saved.append(kept)
        return f"\x00{len(saved) - 1}\x00"

    return _HOLE.sub(lambda m: saved[int(m[1])], _escape(_PROTECT.sub(hold, text)))


def _table(header: str, rows: list[str]) -> list[str]:
    head, *body = (
        [c.strip() for c in re.split(r"(?<!\\)\|", row.strip().strip("|"))] for row in [header, *rows]
    )
    body = [(row + [""] * len(head))[: len(head)] for row in body]
    plain = [[_unmark(re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", c)) for c in row] for row in [head, *body]]
    widths = [max(len(row[k]) for row in plain) for k in range(len(head))]
    if sum(widths) + 3 * (len(widths) - 1) <= TABLE_WIDTH:
        lines = ["   ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in plain]
        lines.insert(1, "   ".join("-" * w for w in widths))
        return ["\n".join(["```", *lines, "```"])]
    return [
        " · ".join(
            [f"• **{_inline(_unmark(cells[0]))}**"]
            + [f"{_escape(h)}: {_inline(c)}" for h, c in zip(plain[0][1:], cells[1:], strict=True) if c]
        )
        for cells in body
    ]


def _line(line: str, stack: list[int]) -> str:
    """One prose line; `stack` holds the indents of the open list levels."""
    if _RULE.match(line):
        stack.clear()
        return "──────────"
    if match := _HEADING.match(line):
        stack.clear()
        return f"**{_inline(_unmark(match[1]))}**" if match[1] else ""
    if match := _QUOTE.match(line):
        stack.clear()
        return "> " + _inline(match[1])
    if match := _BULLET.match(line) or _NUMBERED.match(line):
        indent = len(match[1].expandtabs(4))
        while stack and indent < stack[-1]:
            stack.pop()
        if not stack or indent > stack[-1]:
            stack.append(indent)
        pad = _NBSP_INDENT * (len(stack) - 1)
        if match.re is _BULLET:
            return f"{pad}{_GLYPHS[min(len(stack) - 1, 2)]} {_inline(match[2])}"
        return f"{pad}{match[2]}\\. {_inline(match[3])}"  # escaped: no list renumbering on desktop
    if line[0] not in " \t":
        stack.clear()
    return _NBSP_INDENT * len(stack) + _inline(line.strip())


def _prose(lines: list[str]) -> list[str]:
    out: list[str] = []
    stack: list[int] = []
    for kind, item in prose_items(lines):
        if kind == "table":
            out.extend(_table(item[0], item[1:]))
            stack.clear()
        elif item.strip():  # a blank line may sit between items of one list, so the stack stays
            out.append(_line(item, stack))
    return out


def markdown_to_teams(text: str) -> str:
    """Markdown as LLMs write it, as Teams renders it (see the module docstring); blocks are separated by
    blank lines, code blocks keep their inner newlines."""
    blocks: list[str] = []
    for is_code, lines in fenced_blocks(text):
        if is_code:
            blocks.append("\n".join(["```", *lines, "```"]))
        else:
            blocks.extend(_prose(lines))
    return "\n\n".join(b for b in blocks if b.strip())


# -- size --


def utf16_size(value: Any) -> int:
    """Bytes of `value`'s JSON (or of a string as a JSON string) in UTF-16, as Teams measures."""
    return len(json.dumps(value, ensure_ascii=False).encode("utf-16-le"))


def split_message(text: str, budget: int = TEXT_BUDGET_BYTES) -> list[str]:
    """Pieces of Teams text, in order, each within `budget` UTF-16 bytes as a JSON string; cut at
    paragraphs, then lines, sentences, words (code blocks are re-fenced when one must be cut)."""
    pieces: list[str] = []
    pending = [(piece, CHUNK_CHARS) for piece in split_text(text, CHUNK_CHARS)]
    while pending:
        piece, limit = pending.pop(0)
        size = utf16_size(piece)
        if size <= budget:
            pieces.append(piece)
            continue
        # Emoji, quotes and newlines cost more than one unit each: cut smaller in proportion.
        smaller = max(16, min(limit - 1, int(limit * budget / size * 0.95)))
        pending[:0] = [(p, smaller) for p in split_text(piece, smaller)]
    return pieces


# -- activities --


def text_activity(text: str, *, ai_generated: bool = True, feedback: bool = False) -> Record:
    """A message activity with Teams text; the "AI generated" label and the built-in 👍/👎 feedback loop
    (Teams then sends `message/submitAction` invokes with `actionName: "feedback"`) when asked."""
    activity: Record = {"type": "message", "text": text, "textFormat": "markdown"}
    if ai_generated:
        activity["entities"] = [dict(AI_ENTITY)]
    if feedback:
        activity["channelData"] = {"feedbackLoopEnabled": True}
    return activity


def answer_activities(
    markdown: str, candidates: list[Record] | None = None, *, feedback: bool = True, note: str | None = None
) -> list[Record]:
    """An answer as the activities to send, in order: the text (split if long; AI label on each part,
    the feedback loop on the last one), then the candidates card. Text and card are separate messages:
    Teams would split one activity holding both and return no id for it."""
    text = markdown_to_teams(markdown)
    if note:
        text = f"_{_escape(note)}_\n\n{text}" if text else f"_{_escape(note)}_"
    parts = split_message(text) if text.strip() else []
    activities = [
        text_activity(part, feedback=feedback and i == len(parts) - 1) for i, part in enumerate(parts)
    ]
    if candidates:
        activities.append({"type": "message", "attachments": [candidates_card(candidates)]})
    return activities


def _field(record: Record, key: str) -> str:
    value = record.get(key)
    return "" if value is None else " ".join(str(value).split())


def _card_text(text: str) -> str:
    """Data in a card TextBlock or fact: its Markdown characters escaped, so a name stays a name."""
    return re.sub(r"([\\`*_\[\]#>~|])", r"\\\1", text)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _skills(candidate: Record) -> list[str]:
    skills = candidate.get("skills") or []  # tool records join skills with "; ", other callers may not
    items = skills.split(";") if isinstance(skills, str) else map(str, skills)
    return [s.strip() for s in items if s.strip()]


def _availability(candidate: Record) -> str:
    value = candidate.get("availability")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:.0%} free"
    return ""


def _cv_url(candidate: Record) -> str | None:
    url = candidate.get("web_url") or candidate.get("cv_url")
    return url if isinstance(url, str) and url.startswith("https://") else None


def _candidate_items(rank: int, candidate: Record, evidence_chars: int) -> list[Record]:
    name = _clip(_field(candidate, "name") or "Unnamed", FIELD_CHARS)
    role = _clip(
        " · ".join(_field(candidate, k) for k in ("title", "location") if _field(candidate, k)), FIELD_CHARS
    )
    header: list[Record] = [
        {"type": "TextBlock", "text": _card_text(f"{rank}. {name}"), "weight": "Bolder", "wrap": True}
    ]
    if role:
        header.append(
            {"type": "TextBlock", "text": _card_text(role), "isSubtle": True, "spacing": "None", "wrap": True}
        )
    columns: list[Record] = [{"type": "Column", "width": "stretch", "items": header}]
    if free := _availability(candidate):
        columns.append(
            {
                "type": "Column",
                "width": "auto",
                "verticalContentAlignment": "Center",
                "items": [{"type": "TextBlock", "text": free, "color": "Good", "weight": "Bolder"}],
            }
        )
    items: list[Record] = [{"type": "ColumnSet", "columns": columns}]
    if skills := _skills(candidate):
        skills_text = _card_text(_clip(", ".join(skills), SKILLS_CHARS))
        items.append({"type": "FactSet", "facts": [{"title": "Skills", "value": skills_text}]})
    if evidence := _field(candidate, "evidence"):
        items.append(
            {
                "type": "TextBlock",
                "text": _card_text(f"“{shorten(evidence, evidence_chars)}”"),
                "wrap": True,
                "isSubtle": True,
                "size": "Small",
            }
        )
    source, url = _field(candidate, "source"), _cv_url(candidate)
    if url:
        title = _clip(f"Open CV ({source})" if source else "Open CV", 60)
        items.append(
            {"type": "ActionSet", "actions": [{"type": "Action.OpenUrl", "title": title, "url": url}]}
        )
    elif source:
        items.append(
            {"type": "TextBlock", "text": _card_text(f"CV: {source}"), "size": "Small", "wrap": True}
        )
    return [{"type": "Container", "separator": rank > 1, "spacing": "Medium", "items": items}]


def _card(candidates: list[Record], evidence_chars: int, total: int) -> Record:
    body: list[Record] = [
        {
            "type": "TextBlock",
            "text": "Candidates" if total == 1 else f"{total} candidates",
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
        }
    ]
    for rank, candidate in enumerate(candidates, 1):
        body.extend(_candidate_items(rank, candidate, evidence_chars))
    if len(candidates) < total:
        body.append(
            {
                "type": "TextBlock",
                "text": f"{total - len(candidates)} more not shown: ask me to show the rest.",
                "isSubtle": True,
                "wrap": True,
            }
        )
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "msteams": {"width": "Full"},
        "fallbackText": candidates_text(candidates),
        "body": body,
    }


def candidates_card(candidates: list[Record], *, max_candidates: int = MAX_CARD_CANDIDATES) -> Record:
    """The candidates as an Adaptive Card attachment (name, role, location, availability, skills,
    evidence, a button to the CV), with `fallbackText`. Too large for one activity: shorter evidence for
    everyone first, then candidates from the end (the card says how many more there are)."""
    total = len(candidates)
    shown = candidates[: max(1, max_candidates)]
    evidence_chars = EVIDENCE_CHARS
    while True:
        attachment = {"contentType": ADAPTIVE_CARD, "content": _card(shown, evidence_chars, total)}
        fits = (
            utf16_size({"type": "message", "attachments": [attachment]})
            <= MAX_ACTIVITY_BYTES - ENVELOPE_BYTES
        )
        if fits or len(shown) == 1:  # one clipped candidate always fits; the check keeps the loop finite
            return attachment
        if evidence_chars > SHORT_EVIDENCE_CHARS:
            evidence_chars = SHORT_EVIDENCE_CHARS
        else:
            shown = shown[:-1]


def candidates_text(candidates: list[Record]) -> str:
    """The candidates as plain text (no Markdown): the card's fallback, and for places without cards."""
    lines: list[str] = []
    for rank, candidate in enumerate(candidates, 1):
        facts = [_field(candidate, k) for k in ("title", "location")] + [_availability(candidate)]
        lines.append(
            " — ".join([f"{rank}. {_field(candidate, 'name') or 'Unnamed'}", *[f for f in facts if f]])
        )
        if skills := _skills(candidate):
            lines.append(f"   Skills: {', '.join(skills)}")
        if evidence := _field(candidate, "evidence"):
            lines.append(f"   “{shorten(evidence, SHORT_EVIDENCE_CHARS)}”")
        if url := _cv_url(candidate):
            lines.append(f"   CV: {url}")
        elif source := _field(candidate, "source"):
            lines.append(f"   CV: {source}")
    return "\n".join(lines)


# -- Teams-only wording (moves to assistant/messages.py with the rest) --

HELP = """**SkillMatch** finds the right people for a project: it searches CVs, past Jira work and \
availability in the ERP, and shows the evidence for every match.

**How to ask**

• In a personal chat with me, just write: _who knows Kubernetes and banking?_

• In a channel or group chat, mention me: _@SkillMatch Java architect in Munich, free from March_

• Refine in the same chat or channel thread: “only Munich”, “who of them is free in January?”, “what did \
Anna do in Jira?”

• Each reply thread in a channel is its own conversation. In a personal or group chat, type **new** to \
start over.

**Examples**

• _Senior cloud architect with banking experience, German C1, available from January_

• _Data engineer with Databricks in Berlin, at least 50% free next month_

• _Wer kennt sich mit SAP S/4HANA aus und ist ab Februar frei?_

Rate an answer with 👍 or 👎 below it so the team can improve it. Answers are AI generated: check the \
evidence before you staff. CVs come from SharePoint and the CV folder; files shared in chat are not read."""


def help_text() -> str:
    """What the bot does and how to ask, as Teams Markdown (the `help` command)."""
    return HELP


def welcome_text(kind: ConversationKind) -> str:
    """Sent once when the bot is added: to a user (personal) or to a team or group chat."""
    if kind == "personal":
        return (
            "Hi, I'm **SkillMatch**. Tell me who you are looking for, e.g. _a senior Java developer for a "
            "bank, from January_, and I'll answer with ranked candidates and the evidence for each. "
            "Type **help** for examples, **new** to start over."
        )
    where = "this team" if kind == "channel" else "this chat"
    return (
        f"Thanks for adding **SkillMatch** to {where}. Mention me with a staffing request, e.g. "
        "_@SkillMatch who knows Kotlin and is free next month?_, and I'll answer in the thread. "
        "Type **@SkillMatch help** for examples."
    )


def new_conversation_text() -> str:
    """The reply to `new`: the previous search is left behind."""
    return "Started a new conversation: tell me who you are looking for."
