"""Assistant replies as Slack messages: Markdown to mrkdwn, Block Kit answers, help, home tab and short texts.

Pure functions without I/O: the Slack adapter posts what these return, and tests check them against
Slack's documented limits without a workspace."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from assistant.channels.markdown_blocks import FENCE, fenced_blocks, prose_items
from assistant.messages import feedback_ack_text
from skillmatch.text.negation import shorten  # never cut evidence so that it reverses its meaning

Block = dict[str, Any]
Record = dict[str, Any]

# Slack's documented limits (Block Kit reference, chat.postMessage).
MAX_BLOCKS = 50
MAX_HOME_BLOCKS = 100
SECTION_CHARS = 3000
FALLBACK_CHARS = 3000  # the `text` beside blocks is only used for notifications; keep it short
MESSAGE_CHARS = 40_000
BUTTON_TEXT_CHARS = 75  # button text; we use it for headers (150) too
BUTTON_VALUE_CHARS = 2000
BLOCK_ID_CHARS = 255
CONTEXT_ELEMENTS = 10
# Ours: a card stays a card; the full CV is one click away.
EVIDENCE_CHARS = 400
MAX_CARDS = (MAX_BLOCKS - 6) // 2  # two blocks per card, room left for note, text, divider, buttons
MAX_RECENT = 20
TABLE_WIDTH = 72  # wider tables become bullet lines: a wrapped monospace table is unreadable

NOTES = {
    "retrieval_only": ":mag: Search-only answer: no language model involved.",
    "degraded": ":warning: The language model was unavailable; this is the search ranking.",
}

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_BULLET = re.compile(r"^(\s*)[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^(\s*)(\d{1,9})[.)]\s+(.*)$")
_QUOTE = re.compile(r"^\s{0,3}>+\s?(.*)$")
# Spans whose inside must survive untouched: code, Slack's own <...> tokens, links, bare URLs
# (an underscore or asterisk in a URL is not emphasis), Markdown backslash escapes.
_PROTECT = re.compile(
    r"(?P<code>(?P<ticks>`+)(?P<body>.+?)(?P=ticks))"
    r"|(?P<slack><(?:[@#!]|https?://|mailto:)[^<>\n]*>)"
    r"|!?\[(?P<label>[^\]\n]*)\]\(\s*<?(?P<url>[^\s()<>]+(?:\([^\s()]*\)[^\s()<>]*)*)>?(?:\s+\"[^\"]*\")?\s*\)"
    r"|(?P<bare>https?://[^\s<>]*[^\s<>.,;:!?'\")\]])"
    r"|\\(?P<escaped>[\\`*_{}\[\]()#+\-.!~|>])"
)
_TRIPLE = re.compile(r"(?<![*\w])\*\*\*(?=\S)(.+?)(?<=\S)\*\*\*(?![*\w])")
_ITALIC = re.compile(r"(?<![*\w])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![*\w])")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|(?<!\w)__(?=\S)(.+?)(?<=\S)__(?!\w)")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_HOLE = re.compile("\x00(\\d+)\x00")
# Never cut through these when splitting: a link/mention, an HTML entity.
_ATOM = re.compile(r"<[^<>\n]*>|&[#\w]+;")
_SENTENCE = re.compile(r"(?<=[.!?…])\s+")
_SPACE = re.compile(r"\s+")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _unmark(text: str) -> str:
    return re.sub(r"\*\*|__|`", "", text)


def _link(url: str, label: str) -> str:
    # `|` and `>` end a Slack link early, so they are percent-encoded in the URL.
    url = _escape(url.strip().replace("|", "%7C").replace(" ", "%20")).replace("&lt;", "%3C")
    url = url.replace("&gt;", "%3E")
    label = _escape(" ".join(_unmark(label).split()))
    return f"<{url}|{label}>" if label and label != url else f"<{url}>"


def _inline(text: str) -> str:
    """One line of Markdown prose as mrkdwn."""
    saved: list[str] = []

    def hold(m: re.Match[str]) -> str:
        url, label = m["url"], m["label"]
        if m["code"]:
            kept = f"`{_escape(m['body'])}`"
        elif url:  # a relative link (`cv.md`) means nothing in Slack: its label alone stays
            kept = _link(url, label or url) if url.startswith(("http", "mailto:")) else _escape(label)
        else:
            kept = m["slack"] or _escape(m["escaped"] or m[0])
        saved.append(kept)
        return f"\x00{len(saved) - 1}\x00"

    text = _escape(_PROTECT.sub(hold, text))
    # Italic first: `*x*` is Markdown italic but Slack bold, so bold output must not be seen by it.
    text = _ITALIC.sub(r"_\1_", text)
    text = _TRIPLE.sub(r"*_\1_*", text)
    text = _BOLD.sub(lambda m: f"*{m[1] or m[2]}*", text)
    text = _STRIKE.sub(r"~\1~", text)
    return _HOLE.sub(lambda m: saved[int(m[1])], text)


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
        return ["```", *map(_escape, lines), "```"]
    bullets = []
    for cells in body:
        rest = [f"{_escape(h)}: {_inline(c)}" for h, c in zip(plain[0][1:], cells[1:], strict=True) if c]
        bullets.append(" · ".join([f"• *{_inline(_unmark(cells[0]))}*", *rest]))
    return bullets


def _line(line: str, stack: list[int]) -> str:
    """One prose line; `stack` holds the indents of the open list levels."""
    if not line.strip():
        return ""  # a blank line may sit between items of one list, so the stack stays
    if _RULE.match(line):
        stack.clear()
        return "──────────"
    if match := _HEADING.match(line):
        stack.clear()
        return f"*{_inline(_unmark(match[1]))}*" if match[1] else ""
    if match := _QUOTE.match(line):
        stack.clear()
        return "> " + _inline(match[1])  # a literal `>` at line start is Slack's quote
    if match := _BULLET.match(line) or _NUMBERED.match(line):
        indent = len(match[1].expandtabs(4))
        while stack and indent < stack[-1]:
            stack.pop()
        if not stack or indent > stack[-1]:
            stack.append(indent)
        pad = "    " * (len(stack) - 1)
        if match.re is _BULLET:  # Slack has no list syntax: a glyph per level keeps nesting visible
            return f"{pad}{'•◦▪'[min(len(stack) - 1, 2)]} {_inline(match[2])}"
        return f"{pad}{match[2]}. {_inline(match[3])}"
    if line[0] not in " \t":
        stack.clear()
    return "    " * len(stack) + _inline(line.strip())


def _prose(lines: list[str]) -> list[str]:
    out: list[str] = []
    stack: list[int] = []
    for kind, item in prose_items(lines):
        if kind == "table":
            out.extend(_table(item[0], item[1:]))
            stack.clear()
        else:
            out.append(_line(item, stack))
    return out


def markdown_to_mrkdwn(text: str) -> str:
    """Markdown (as LLMs write it) as Slack mrkdwn, escaped; code stays code, Slack tokens stay intact."""
    out: list[str] = []
    for is_code, lines in fenced_blocks(text):
        # Slack ignores language tags, so the fence goes bare; `&<>` still need entities in code.
        out.extend(["```", *map(_escape, lines), "```"] if is_code else _prose(lines))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()


def _paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs; a fenced code block is one paragraph, blank lines and all."""
    parts = re.split(r"(^[ \t]*```.*?^[ \t]*```[ \t]*$)", text, flags=re.MULTILINE | re.DOTALL)
    paragraphs = [
        p for i, part in enumerate(parts) for p in ([part] if i % 2 else re.split(r"\n\s*\n", part))
    ]
    return [p.strip("\n") for p in paragraphs if p.strip()]


def _cut(text: str, pattern: re.Pattern[str]) -> list[str]:
    atoms = [m.span() for m in _ATOM.finditer(text)]
    parts, start = [], 0
    for match in pattern.finditer(text):
        if not any(a < match.start() < b for a, b in atoms):
            parts.append(text[start : match.start()])
            start = match.end()
    return [p for p in [*parts, text[start:]] if p]


def _split(text: str, limit: int, level: int) -> list[str]:
    if len(text) <= limit:
        return [text]
    if level == 0:
        parts, sep = _paragraphs(text), "\n\n"
    elif level == 1 and FENCE.match(text) and text.rstrip().endswith("```") and "\n" in text:
        # An oversized code block: split at lines and re-fence each piece so all stay code.
        inner = text.rstrip().split("\n")[1:-1]
        return [f"```\n{p}\n```" for p in _split("\n".join(inner), limit - 8, 1)]
    elif level == 1:
        parts, sep = text.split("\n"), "\n"
    elif level in (2, 3):
        parts, sep = _cut(text, _SENTENCE if level == 2 else _SPACE), " "
    else:
        pieces = []
        while len(text) > limit:
            cut = next((m.start() for m in _ATOM.finditer(text) if 0 < m.start() < limit < m.end()), limit)
            pieces.append(text[:cut])
            text = text[cut:]
        return [*pieces, text] if text else pieces
    pieces, current = [], ""
    for part in parts:
        if len(part) > limit:
            pieces.extend([current] if current else [])
            pieces.extend(_split(part, limit, level + 1))
            current = ""
            continue
        if current and len(current) + len(sep) + len(part) > limit:
            pieces.append(current)
            current = ""
        current = f"{current}{sep}{part}" if current else part
    return [*pieces, current] if current else pieces


def split_text(text: str, limit: int = SECTION_CHARS) -> list[str]:
    """Pieces of at most `limit` chars, cut at paragraphs, then lines, sentences, words; in order."""
    if limit < 16:
        raise ValueError("limit must leave room for code fences")
    return [piece.rstrip() for piece in _split(text.strip(), limit, 0) if piece.strip()]


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _clip(text, SECTION_CHARS)}}


def _context(*texts: str) -> Block:
    elements = [{"type": "mrkdwn", "text": _clip(t, SECTION_CHARS)} for t in texts[:CONTEXT_ELEMENTS]]
    return {"type": "context", "elements": elements}


def _plain(text: str) -> Block:
    return {"type": "plain_text", "text": _clip(text, BUTTON_TEXT_CHARS), "emoji": True}


def _field(record: Record, key: str) -> str:
    value = record.get(key)
    return "" if value is None else " ".join(str(value).split())


def _card(candidate: Record) -> list[Block]:
    facts = " · ".join(_escape(_field(candidate, k)) for k in ("title", "location") if _field(candidate, k))
    lines = [f"*{_escape(_field(candidate, 'name') or 'Unnamed')}*" + (f" — {facts}" if facts else "")]
    skills = candidate.get("skills") or []  # tool records join skills with "; ", other callers may not
    skills = [s.strip() for s in (skills.split(";") if isinstance(skills, str) else map(str, skills))]
    details = [f"Skills: {_escape(', '.join(s for s in skills if s))}"] if any(skills) else []
    availability = candidate.get("availability")
    if isinstance(availability, int | float) and not isinstance(availability, bool):
        details.append(f"{availability:.0%} free")
    lines += [" · ".join(details)] if details else []
    if evidence := _field(candidate, "evidence"):
        lines.append("> " + _escape(shorten(evidence, EVIDENCE_CHARS)))
    source, url = _field(candidate, "source"), candidate.get("web_url") or candidate.get("cv_url")
    cv = _link(url, source or "open") if isinstance(url, str) and url.startswith("http") else _escape(source)
    return [_section("\n".join(lines))] + ([_context(f":page_facing_up: CV: {cv}")] if cv else [])


def preview_text(markdown: str, limit: int = SECTION_CHARS) -> str:
    """A reply still being written, as mrkdwn for one message: cut at a clean boundary, marked unfinished."""
    pieces = split_text(markdown_to_mrkdwn(markdown), limit - 2)
    return f"{pieces[0]} …" if pieces else "…"


def _parts(
    text: str,
    candidates: list[Record],
    trace_id: str,
    status: str,
    max_candidates: int,
    notice: str | None = None,
) -> tuple[list[Block], list[Block], list[list[Block]], list[Block]]:
    """Status note, text sections, candidate cards, feedback row: the pieces pagination moves around."""
    notes = [NOTES[status]] if status in NOTES else []
    notes += [f":information_source: {_escape(notice)}"] if notice else []  # e.g. a provider failed over
    note = [_context(*notes)] if notes else []
    sections = [_section(piece) for piece in split_text(markdown_to_mrkdwn(text))]
    if status == "rejected":
        return note, sections, [], []
    cards = [_card(c) for c in candidates[: max(0, min(max_candidates, MAX_CARDS))]]
    if cards and (note or sections):
        cards[0].insert(0, {"type": "divider"})
    buttons = [
        {"type": "button", "action_id": action, "value": trace_id[:BUTTON_VALUE_CHARS], "text": _plain(label)}
        for action, label in (("feedback_up", "👍 Helpful"), ("feedback_down", "👎 Not helpful"))
    ]
    feedback = {"type": "actions", "block_id": f"feedback:{trace_id}"[:BLOCK_ID_CHARS], "elements": buttons}
    return note, sections, cards, [feedback]


def answer_blocks(
    text: str,
    candidates: list[Record],
    *,
    trace_id: str,
    status: str,
    max_candidates: int = 5,
    notice: str | None = None,
) -> list[Block]:
    """One message's blocks; text beyond the 50-block limit is cut with a note (see message_chunks)."""
    note, sections, cards, feedback = _parts(text, candidates, trace_id, status, max_candidates, notice)
    tail = [block for card in cards for block in card] + feedback
    room = MAX_BLOCKS - len(note) - len(tail)
    if len(sections) > room:
        cut = _context(":scissors: The answer was too long for one message and was shortened.")
        sections = [*sections[: room - 1], cut]
    return note + sections + tail


def message_chunks(
    text: str,
    candidates: list[Record],
    *,
    trace_id: str,
    status: str,
    max_candidates: int = 5,
    notice: str | None = None,
) -> list[Record]:
    """Payloads {"text", "blocks"} to post in order; one unless the answer exceeds a message's limits."""
    note, sections, cards, feedback = _parts(text, candidates, trace_id, status, max_candidates, notice)
    units = [[section] for section in sections] + cards  # a card's blocks never part
    units = [note + units[0], *units[1:]] if units else [note]
    units[-1] = units[-1] + feedback  # buttons only on the last message
    messages: list[list[Block]] = [[]]
    size = 0
    for unit in units:
        chars = len(json.dumps(unit, ensure_ascii=False))
        if messages[-1] and (len(messages[-1]) + len(unit) > MAX_BLOCKS or size + chars > MESSAGE_CHARS):
            messages.append([])
            size = 0
        messages[-1].extend(unit)
        size += chars
    return [{"text": _fallback(m, i, len(messages)), "blocks": m} for i, m in enumerate(messages)]


def _fallback(blocks: list[Block], index: int, total: int) -> str:
    """The notification text: the message's sections without link targets and bold marks."""
    texts = "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    plain = re.sub(r"<[^|<>]*\|([^<>]*)>", r"\1", texts).replace("*", "") or "SkillMatch answer"
    return _clip((f"({index + 1}/{total}) " if total > 1 else "") + plain, FALLBACK_CHARS)


def feedback_ack_blocks(positive: bool) -> list[Block]:
    return [{**_context(feedback_ack_text(positive)), "block_id": "feedback_ack"}]


def with_feedback_ack(blocks: list[Block], positive: bool) -> list[Block]:
    """A posted message's blocks with the button row swapped for the acknowledgement (for chat.update)."""
    ack = feedback_ack_blocks(positive)
    return [
        b for block in blocks for b in (ack if block.get("block_id", "").startswith("feedback:") else [block])
    ]


PROMPTS = [  # (title ≤ 75 chars, message)
    ("Find a cloud architect", "Senior cloud architect, Kubernetes and banking, free from January"),
    ("SAP-Expertise in München", "Wer kann SAP S/4HANA, sitzt in München und ist ab März frei?"),
    ("Who is free next month?", "Which Java developers are at least 50% free next month?"),
    ("Jira-Erfahrung prüfen", "Wer hat in Jira an Kubernetes-Migrationen gearbeitet?"),
]
HELP = """*SkillMatch* finds the right people for a project: it searches CVs, past Jira work and \
availability in the ERP, and shows the evidence for every match.

*How to ask*
• Mention me in a channel: `@SkillMatch who knows Kubernetes and banking?`
• Send me a direct message, or open SkillMatch in Slack's assistant pane
• Use the command anywhere: `/skillmatch Java architect in Munich, free from March`
• Refine in the same thread: “only Munich”, “who of them is free in January?”, “what did Anna do in Jira?”

*Examples*
• _Senior cloud architect with banking experience, German C1, available from January_
• _Data engineer with Databricks in Berlin, at least 50% free next month_
• _Wer kennt sich mit SAP S/4HANA aus und ist ab Februar frei?_
• _Welche Projekte hat Anna Schmidt in Jira gemacht?_

Rate an answer with 👍 or 👎 so the team can improve it. CVs come from SharePoint and the CV folder; \
files shared in chat are not read."""


def help_text() -> str:
    """What the bot does and how to ask, in mrkdwn (help command, App Home)."""
    return HELP


def _when(value: Any) -> str:
    """A timestamp in the reader's time zone (Slack's date token); other strings ("2 hours ago") as given."""
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).strip())
    except ValueError:
        return _escape(str(value or "").strip())
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # stored timestamps are UTC
    fallback = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def _recent(item: Record) -> Block:
    title, url = _clip(_field(item, "title") or "Untitled conversation", 150), item.get("permalink")
    shown = _link(url, title) if isinstance(url, str) and url.startswith("https://") else _escape(title)
    when = _when(item["when"]) if item.get("when") else ""
    return _section(f"*{shown}*" + (f"\n{when}" if when else ""))


def home_view(recent: list[Record]) -> Record:
    """The App Home tab: what the assistant does, how to use it, the user's recent conversations."""
    blocks = [
        {"type": "header", "text": _plain("SkillMatch Assistant")},
        _context("Your staffing assistant. Ask in English or German."),
    ]
    blocks += [_section(piece) for piece in split_text(HELP)]
    blocks += [{"type": "divider"}, _section("*Your recent conversations*")]
    blocks += [_recent(item) for item in recent[:MAX_RECENT] if isinstance(item, dict)] or [
        _section("Nothing here yet. Send me a message in the *Messages* tab or mention me in a channel.")
    ]
    return {"type": "home", "blocks": blocks[:MAX_HOME_BLOCKS]}


def suggested_prompts() -> list[dict[str, str]]:
    """Prompts for the assistant pane (Slack shows at most four), English and German."""
    return [{"title": title, "message": message} for title, message in PROMPTS]


def mrkdwn_text(text: str) -> str:
    """Shared wording (assistant.messages) as mrkdwn: escaped, *bold* kept."""
    return markdown_to_mrkdwn(text)


def command_failed_text(reason: str) -> str:
    if reason in ("not_in_channel", "channel_not_found"):
        return "I can't post in this channel yet: invite me with `/invite @SkillMatch`, or DM me."
    return "Slack didn't let me start a thread just now. Please try again in a moment, or DM me."
