"""Replies as Slack messages: Markdown becomes mrkdwn, long text splits cleanly, and every payload stays
within Slack's Block Kit limits (checked by a validator here, and by slack_sdk's models when installed)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from assistant.channels.slack_format import (
    answer_blocks,
    feedback_ack_blocks,
    help_text,
    home_view,
    markdown_to_mrkdwn,
    message_chunks,
    preview_text,
    split_text,
    suggested_prompts,
    with_feedback_ack,
)
from assistant.messages import (
    error_text,
    feedback_ack_text,
    file_share_text,
    loading_messages,
    refusal_text,
)

TRACE = "0123456789abcdef0123456789abcdef"
# A Slack token: mention, channel, special, date or link. Any other `<` or `>` must be an entity.
SLACK_TOKEN = re.compile(r"<(?:[@#!]|https?://|mailto:)[^<>|]*(?:\|[^<>]*)?>")

try:  # slack_sdk is the adapter's dependency, not the engine's: use its validation when it is there
    from slack_sdk.models.blocks import Block as SdkBlock
except ImportError:  # pragma: no cover
    SdkBlock = None


def check_mrkdwn(text: str) -> None:
    assert text.strip(), "Slack rejects empty text"
    rest = SLACK_TOKEN.sub("", text)
    rest = re.sub(r"(?m)^> ", "", rest)  # a quote marker at line start is meant literally
    assert "<" not in rest and ">" not in rest, f"unescaped angle bracket in {text!r}"
    assert not re.search(r"&(?!amp;|lt;|gt;)", rest), f"unescaped & in {text!r}"


def validate(blocks: list[dict[str, Any]], *, max_blocks: int = 50) -> None:
    """Slack's documented limits for the block types we send."""
    assert 0 < len(blocks) <= max_blocks
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(block_ids) == len(set(block_ids)), "block_ids must be unique in a message"
    for block in blocks:
        assert block["type"] in {"section", "context", "divider", "actions", "header"}
        assert 0 < len(block.get("block_id", "x")) <= 255
        if block["type"] == "section":
            assert block["text"]["type"] == "mrkdwn"
            assert len(block["text"]["text"]) <= 3000
            check_mrkdwn(block["text"]["text"])
        elif block["type"] == "context":
            assert 0 < len(block["elements"]) <= 10
            for element in block["elements"]:
                assert element["type"] == "mrkdwn" and len(element["text"]) <= 3000
                check_mrkdwn(element["text"])
        elif block["type"] == "header":
            assert block["text"]["type"] == "plain_text" and 0 < len(block["text"]["text"]) <= 150
        elif block["type"] == "actions":
            assert 0 < len(block["elements"]) <= 25
            action_ids = [e["action_id"] for e in block["elements"]]
            assert len(action_ids) == len(set(action_ids))
            for button in block["elements"]:
                assert button["type"] == "button" and 0 < len(button["action_id"]) <= 255
                assert button["text"]["type"] == "plain_text" and 0 < len(button["text"]["text"]) <= 75
                assert 0 < len(button["value"]) <= 2000
        if SdkBlock is not None:
            SdkBlock.parse(block).validate_json()


def candidate(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "name": f"Person {i} Müller",
        "person_id": i,
        "title": "Senior Cloud Architect",
        "location": "München",
        "seniority": "senior",
        "years": 10 + i,
        "languages": "de-C2 en-C1",
        "score": 0.1,
        "skills": "banking; kubernetes",
        "availability": 0.75,
        "evidence": "Kubernetes migration for a private bank (01/2024 – present).",
        "source": f"person-{i}.md",
        **extra,
    }


def feedback_blocks(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [b for b in blocks if b["type"] == "actions"]


def long_markdown(paragraphs: int) -> str:
    sentence = "**Anna Schmidt** led a _Kubernetes_ migration for a bank & insurer in Köln. "
    link = "See [her CV](https://sp.example.com/cv?id=1&v=2) and <@U123>."
    return "\n\n".join(
        f"## Part {i}\n\n- {sentence * 6}\n- {link}\n\n{sentence * 20}" for i in range(paragraphs)
    )


# --- markdown_to_mrkdwn ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("markdown", "mrkdwn"),
    [
        ("**bold**, __also bold__, *italic*, _italic_", "*bold*, *also bold*, _italic_, _italic_"),
        ("~~gone~~ and ***both***", "~gone~ and *_both_*"),
        ("**bold with *italic* inside**", "*bold with _italic_ inside*"),
        (
            "[Anna's CV](https://sp.example.com/cv?id=1&x=2)",
            "<https://sp.example.com/cv?id=1&amp;x=2|Anna's CV>",
        ),
        (
            "[**Jira** ticket](https://jira.example.com/browse/ABC-1)",
            "<https://jira.example.com/browse/ABC-1|Jira ticket>",
        ),
        ("[the CV](anna.md) or [mail](mailto:a@b.de)", "the CV or <mailto:a@b.de|mail>"),
        ("[x > y](https://a.io/b|c)", "<https://a.io/b%7Cc|x &gt; y>"),  # `|` would end the URL early
        ("[x](https://a.io/wiki/Foo_(bar))", "<https://a.io/wiki/Foo_(bar)|x>"),
        ("a < b && c > d", "a &lt; b &amp;&amp; c &gt; d"),
        ("Hi <@U123>, see <https://x.io/a?b=1|docs> in <#C1|general> <!here>", None),
        ("# Top candidates\n## **Berlin** office", "*Top candidates*\n*Berlin office*"),
        (
            "**Jörg Müller** aus München: _Größe_ über Maß, ~~Straße~~",
            "*Jörg Müller* aus München: _Größe_ über Maß, ~Straße~",
        ),
        ("Use `**kwargs` and `a < b` here", "Use `**kwargs` and `a &lt; b` here"),
        ("see https://x.io/a_b_c?q=*x*&y=1 now", "see https://x.io/a_b_c?q=*x*&amp;y=1 now"),
        ("snake_case_name and 5 * 3 * 2", "snake_case_name and 5 * 3 * 2"),
        (r"\*not emphasis\* and \_this\_", "*not emphasis* and _this_"),
        ("> quoted & cited\n>> nested", "> quoted &amp; cited\n> nested"),
        ("above\n\n---\n\nbelow", "above\n\n──────────\n\nbelow"),
        ("plain text, nothing to do.", "plain text, nothing to do."),
    ],
)
def test_inline_and_block_markdown(markdown: str, mrkdwn: str | None) -> None:
    assert markdown_to_mrkdwn(markdown) == (markdown if mrkdwn is None else mrkdwn)


def test_lists_become_bullets_and_nest() -> None:
    markdown = "- Anna\n  - Kubernetes\n    - AKS\n  - Banking\n- Jörg\n* star item\n+ plus item"
    assert markdown_to_mrkdwn(markdown) == (
        "• Anna\n    ◦ Kubernetes\n        ▪ AKS\n    ◦ Banking\n• Jörg\n• star item\n• plus item"
    )
    # Four-space nesting is one level too; numbers stay, and a bullet under a number nests.
    assert markdown_to_mrkdwn("- a\n    - b") == "• a\n    ◦ b"
    assert markdown_to_mrkdwn("1. first\n2) second\n   - detail\n3. third") == (
        "1. first\n2. second\n    ◦ detail\n3. third"
    )


def test_search_only_answer_renders() -> None:
    markdown = (
        "_No language model is configured; this is the search ranking._\n\n"
        "*Best matches for “kubernetes bank”*\n"
        "1. **Anna Schmidt** (Senior Cloud Architect, Berlin, 75% free) · banking, kubernetes\n"
        "   Kubernetes migration for a private bank. _[anna-schmidt.md]_\n"
    )
    assert markdown_to_mrkdwn(markdown).splitlines() == [
        "_No language model is configured; this is the search ranking._",
        "",
        "_Best matches for “kubernetes bank”_",
        "1. *Anna Schmidt* (Senior Cloud Architect, Berlin, 75% free) · banking, kubernetes",
        "    Kubernetes migration for a private bank. _[anna-schmidt.md]_",
    ]


def test_code_blocks_are_never_transformed() -> None:
    code = "x = **kwargs  # [a](b) _c_\n\n# not a heading\n- not a list\nif a {} b: pass"
    markdown = f"Run this:\n\n```python\n{code.format('<')}\n```\nDone **now**."
    assert markdown_to_mrkdwn(markdown) == f"Run this:\n\n```\n{code.format('&lt;')}\n```\nDone *now*."
    # A reply cut off inside a fence still shows its code as code.
    assert markdown_to_mrkdwn("Look:\n```\n**x**") == "Look:\n```\n**x**\n```"


def test_tables_become_monospace_or_bullets() -> None:
    rows = "| **Anna** | Berlin | 0.14 |\n| Jörg Müller | München | 0.12 |"
    narrow = f"| Name | Ort | Score |\n|---|:---:|---:|\n{rows}"
    assert markdown_to_mrkdwn(narrow) == (
        "```\nName          Ort       Score\n-----------   -------   -----\n"
        "Anna          Berlin    0.14\nJörg Müller   München   0.12\n```"
    )
    evidence = "Kubernetes migration for a private bank with a very long description of the work"
    rows = f"| **Anna** | {evidence} | 75% |\n| Ben | | 10% |"
    wide = f"Intro\n\n| Name | Evidence | Free |\n|---|---|---|\n{rows}"
    assert markdown_to_mrkdwn(wide) == (
        f"Intro\n\n• *Anna* · Evidence: {evidence} · Free: 75%\n• *Ben* · Free: 10%"
    )


# --- split_text -----------------------------------------------------------------------------------


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_split_keeps_short_text_and_drops_empty() -> None:
    assert split_text("short") == ["short"]
    assert split_text("  \n\n ") == []


def test_split_prefers_paragraphs_then_lines() -> None:
    paragraphs = ["a" * 1200, "b" * 1200, "c" * 1200]
    assert split_text("\n\n".join(paragraphs)) == ["\n\n".join(paragraphs[:2]), paragraphs[2]]
    lines = "\n".join(["x" * 50] * 10)
    assert split_text(lines, limit=120) == ["\n".join(["x" * 50] * 2)] * 5


@pytest.mark.parametrize("limit", [50, 200, 3000])
def test_split_respects_limit_and_keeps_order(limit: int) -> None:
    text = markdown_to_mrkdwn(long_markdown(8)) + "\n\n" + "unbrokenwordwithoutspaces" * 20
    pieces = split_text(text, limit=limit)
    assert all(0 < len(p) <= limit for p in pieces)
    assert squeeze("".join(pieces)) == squeeze(text)


def test_split_never_breaks_links_or_entities() -> None:
    links = " ".join(
        f"<https://jira.example.com/browse/ABC-{i}?a=1&amp;b=2|Dr. Müller, ticket {i}>." for i in range(60)
    )
    pieces = split_text(links, limit=100)
    assert len(pieces) > 10
    for piece in pieces:
        assert len(piece) <= 100
        assert SLACK_TOKEN.sub("", piece).count("<") == 0 and SLACK_TOKEN.sub("", piece).count(">") == 0
        assert not re.search(r"&(?!amp;)", piece)
    assert squeeze("".join(pieces)) == squeeze(links)


def test_split_keeps_code_blocks_whole_or_refenced() -> None:
    code = "```\n" + "\n\nline of code\n".join(["x = 1"] * 20) + "\n```"
    intro = "Intro paragraph. " * 20
    pieces = split_text(f"{intro}\n\n{code}\n\nOutro.", limit=len(code) + 10)
    assert pieces == [intro.strip(), f"{code}\n\nOutro."]  # blank lines inside the block did not split it
    big = "```\n" + "\n".join(f"print({i})" for i in range(400)) + "\n```"
    pieces = split_text(big, limit=500)
    assert len(pieces) > 1
    for piece in pieces:
        assert len(piece) <= 500 and piece.startswith("```\n") and piece.endswith("\n```")
    assert "".join(p[4:-4] for p in pieces).replace("\n", "") == big[4:-4].replace("\n", "")


def test_preview_of_a_streaming_reply_is_cut_cleanly() -> None:
    assert preview_text("**Anna** is") == "*Anna* is …"
    assert preview_text("Look:\n```\nx = 1") == "Look:\n```\nx = 1\n``` …"  # the open fence is closed
    preview = preview_text(long_markdown(10))
    assert len(preview) <= 3000
    check_mrkdwn(preview)


# --- answer_blocks --------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [0, 1, 5, 25])
@pytest.mark.parametrize("status", ["ok", "retrieval_only", "degraded"])
def test_answer_blocks_within_limits(count: int, status: str) -> None:
    blocks = answer_blocks(
        "**Anna** fits best.", [candidate(i) for i in range(count)], trace_id=TRACE, status=status
    )
    validate(blocks)
    cards = [b for b in blocks if b["type"] == "section" and "Senior Cloud Architect" in b["text"]["text"]]
    assert len(cards) == min(count, 5)
    assert (count > 0) == any(b["type"] == "divider" for b in blocks)
    assert blocks[-1] == feedback_blocks(blocks)[0]
    assert blocks[-1]["block_id"] == f"feedback:{TRACE}"
    assert [(e["action_id"], e["value"]) for e in blocks[-1]["elements"]] == [
        ("feedback_up", TRACE),
        ("feedback_down", TRACE),
    ]
    notes = [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]
    assert any("no language model involved" in n for n in notes) == (status == "retrieval_only")
    assert any("language model was unavailable" in n for n in notes) == (status == "degraded")


def test_candidate_card_content() -> None:
    anna = candidate(
        1,
        name="Anna Schmidt",
        title="R&D Lead",
        location="Berlin",
        web_url="https://sp.example.com/a?b=1&c=2",
    )
    section, context = answer_blocks("", [anna], trace_id=TRACE, status="ok")[:2]
    assert section["text"]["text"] == (
        "*Anna Schmidt* — R&amp;D Lead · Berlin\nSkills: banking, kubernetes · 75% free\n"
        "> Kubernetes migration for a private bank (01/2024 – present)."
    )
    assert (
        context["elements"][0]["text"]
        == ":page_facing_up: CV: <https://sp.example.com/a?b=1&amp;c=2|person-1.md>"
    )
    sparse = answer_blocks(
        "", [{"name": "Ben", "availability": None, "skills": ["go", "rust"]}], trace_id=TRACE, status="ok"
    )
    assert sparse[0]["text"]["text"] == "*Ben*\nSkills: go, rust"
    assert sparse[1]["type"] == "actions"  # no source, no context line


def test_rejected_has_no_candidates_and_no_buttons() -> None:
    blocks = answer_blocks("That request is too long.", [candidate(1)], trace_id=TRACE, status="rejected")
    validate(blocks)
    assert [b["type"] for b in blocks] == ["section"]


def test_very_long_answer_is_shortened_to_one_valid_message() -> None:
    blocks = answer_blocks(
        long_markdown(80), [candidate(i) for i in range(40)], trace_id=TRACE, status="ok", max_candidates=40
    )
    validate(blocks)
    assert len(blocks) == 50 and blocks[-1]["type"] == "actions"
    assert any(
        "too long for one message" in e["text"]
        for b in blocks
        if b["type"] == "context"
        for e in b["elements"]
    )


def test_oversized_trace_id_is_clipped() -> None:
    blocks = answer_blocks("hi", [], trace_id="f" * 3000, status="ok")
    validate(blocks)


# --- message_chunks -------------------------------------------------------------------------------


def test_short_answer_is_one_message() -> None:
    [message] = message_chunks("**Anna** fits.", [candidate(1)], trace_id=TRACE, status="ok")
    assert message["blocks"] == answer_blocks("**Anna** fits.", [candidate(1)], trace_id=TRACE, status="ok")
    assert message["text"].startswith("Anna fits.")


@pytest.mark.parametrize("paragraphs", [80, 400])
def test_long_answer_spreads_over_messages_with_buttons_last(paragraphs: int) -> None:
    text = long_markdown(paragraphs)
    messages = message_chunks(text, [candidate(i) for i in range(5)], trace_id=TRACE, status="retrieval_only")
    assert len(messages) > 1
    for i, message in enumerate(messages):
        validate(message["blocks"])
        assert 0 < len(message["text"]) <= 3000 and message["text"].startswith(f"({i + 1}/{len(messages)})")
        assert sum(len(str(b)) for b in message["blocks"]) < 45_000
        assert bool(feedback_blocks(message["blocks"])) == (i == len(messages) - 1)
    blocks = [b for m in messages for b in m["blocks"]]
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert sections[:-5] == split_text(markdown_to_mrkdwn(text))  # nothing lost, order kept
    for i, block in enumerate(blocks):  # a card's CV line stays with its card
        if block["type"] == "context" and "CV:" in block["elements"][0]["text"]:
            assert "Senior Cloud Architect" in blocks[i - 1]["text"]["text"]


def test_rejected_chunks_have_no_buttons() -> None:
    messages = message_chunks(long_markdown(80), [candidate(1)], trace_id=TRACE, status="rejected")
    assert not any(feedback_blocks(m["blocks"]) for m in messages)


# --- feedback, help, home, prompts, short texts ---------------------------------------------------


@pytest.mark.parametrize("positive", [True, False])
def test_feedback_ack_replaces_buttons(positive: bool) -> None:
    validate(feedback_ack_blocks(positive))
    assert feedback_ack_text(positive).startswith("Thanks")
    blocks = answer_blocks("hi", [candidate(1)], trace_id=TRACE, status="ok")
    acked = with_feedback_ack(blocks, positive)
    validate(acked)
    assert acked[:-1] == blocks[:-1] and not feedback_blocks(acked)
    assert acked[-1]["elements"][0]["text"] == feedback_ack_text(positive)


def test_help_text_covers_usage_in_both_languages() -> None:
    text = help_text()
    check_mrkdwn(text)
    for phrase in (
        "/skillmatch",
        "direct message",
        "assistant pane",
        "only Munich",
        "free in January",
        "Jira",
        "Wer ",
    ):
        assert phrase in text


def test_home_view_lists_recent_conversations() -> None:
    recent = [
        {
            "title": "Kubernetes & banking",
            "when": "2025-01-14T09:30:00+00:00",
            "permalink": "https://x.slack.com/archives/D1/p1",
        },
        {"title": "Java in München", "when": "2 hours ago"},
        {"title": "naive time", "when": datetime(2025, 1, 1, 12, 0)},
    ]
    view = home_view(recent)
    assert view["type"] == "home"
    validate(view["blocks"], max_blocks=100)
    texts = "\n".join(b["text"]["text"] for b in view["blocks"] if b["type"] == "section")
    stamp = int(datetime(2025, 1, 14, 9, 30, tzinfo=UTC).timestamp())
    assert f"*<https://x.slack.com/archives/D1/p1|Kubernetes &amp; banking>*\n<!date^{stamp}^" in texts
    assert "*Java in München*\n2 hours ago" in texts
    assert f"<!date^{int(datetime(2025, 1, 1, 12, tzinfo=UTC).timestamp())}^" in texts
    assert "/skillmatch" in texts


def test_home_view_empty_state_and_many_conversations() -> None:
    empty = home_view([])
    validate(empty["blocks"], max_blocks=100)
    assert "Nothing here yet" in str(empty)
    many = home_view([{"title": f"Conversation {i}", "when": "yesterday"} for i in range(500)])
    validate(many["blocks"], max_blocks=100)


def test_suggested_prompts_shape() -> None:
    prompts = suggested_prompts()
    assert 3 <= len(prompts) <= 4
    for prompt in prompts:
        assert set(prompt) == {"title", "message"}
        assert 0 < len(prompt["title"]) <= 75 and prompt["message"]
    assert any(re.search(r"\b(Wer|ist|frei)\b", p["message"]) for p in prompts)  # German too
    assert any(re.search(r"\b(Which|with|free)\b", p["message"]) for p in prompts)


def test_short_texts() -> None:
    assert "isn't enabled in this channel" in refusal_text("channel")
    assert "workspace" in refusal_text("workspace")
    assert refusal_text("user") != refusal_text("channel") and refusal_text("something else")
    assert "SharePoint" in file_share_text()
    assert "try again" in error_text()
    loading = loading_messages()
    assert {"Searching CVs…", "Checking Jira history…", "Checking availability…"} <= set(loading)
    assert loading[-1] == "Comparing candidates…" and len(loading) == len(set(loading))
    for text in (refusal_text("channel"), file_share_text(), error_text()):
        check_mrkdwn(text)


def test_a_card_never_cuts_evidence_so_that_it_reverses_its_meaning() -> None:
    prefix = ("Built payment services for a retail bank over six years, " * 8)[:384] + "; "
    evidence = prefix + "React I have not used in production."  # a plain cut at 400 ends "React I have"
    blocks = answer_blocks(
        "", [{"name": "Sophie Lang", "evidence": evidence}], trace_id="t" * 32, status="ok"
    )
    shown = json.dumps(blocks, ensure_ascii=False)
    assert "React I have" not in shown or "not used" in shown
