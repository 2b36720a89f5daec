"""Replies as Teams messages: Markdown becomes what Teams renders, long answers split within Teams' size
limit (measured in UTF-16 as Teams does), candidates become an Adaptive Card that fits, and every
activity passes through the real SDK to the fake Bot Connector without a rejection."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from microsoft_agents.activity import Activity, ConversationReference
from microsoft_agents.hosting.core import TurnContext

from assistant.channels.teams_format import (
    ADAPTIVE_CARD,
    AI_ENTITY,
    CARD_VERSION,
    MAX_ACTIVITY_BYTES,
    TEXT_BUDGET_BYTES,
    answer_activities,
    candidates_card,
    candidates_text,
    help_text,
    markdown_to_teams,
    new_conversation_text,
    split_message,
    text_activity,
    utf16_size,
    welcome_text,
)
from tests.fakes import teams_activities as ta
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.entra_openid import FakeEntra
from tests.fakes_tests.conftest import start_host

pytestmark = pytest.mark.filterwarnings("ignore::aiohttp.web.NotAppKeyWarning")

ANNA = {
    "name": "Anna Schmidt",
    "person_id": 7,
    "title": "Senior Cloud Architect",
    "location": "Munich",
    "skills": "Kotlin; AWS; Kubernetes",
    "availability": 0.8,
    "evidence": "Led the migration of a banking platform to Kubernetes on AWS (2022-2024).",
    "source": "anna-schmidt-cv.pdf",
    "web_url": "https://contoso.sharepoint.com/sites/hr/cv/anna-schmidt-cv.pdf",
}
CODE = re.compile(r"```.*?```|`[^`\n]+`", re.DOTALL)


def envelope(activity: dict[str, Any]) -> dict[str, Any]:
    """`activity` as the SDK sends it in a channel thread: ids, conversation, from, recipient, locale."""
    reply = ta.channel_message("x", service_url="https://smba.trafficmanager.net/emea/a1b2c3d4-tenant/")
    return {
        **activity,
        "channelId": "msteams",
        "serviceUrl": reply["serviceUrl"],
        "from": {"id": ta.BOT_ID, "name": ta.BOT_NAME},
        "recipient": reply["from"],
        "conversation": reply["conversation"],
        "locale": "de-DE",
        "inputHint": "acceptingInput",
        "replyToId": reply["id"],
    }


def check_teams_text(text: str) -> None:
    """What Teams would not render, or render as HTML, outside code."""
    prose = CODE.sub("", text)
    assert "<" not in prose and ">" not in re.sub(r"(?m)^> ", "", prose), text
    assert not re.search(r"&(?!amp;|lt;|gt;)", prose), text
    assert not re.search(r"(?m)^\s*#{1,6}\s", prose), "headings do not render in Teams"
    assert not re.search(r"(?m)^\s*\|.*\|\s*$", prose), "tables do not render in Teams"
    assert "\n\n\n" not in text


# -- Markdown --


def test_headings_become_bold_lines_and_rules_a_line_of_dashes() -> None:
    assert (
        markdown_to_teams("# Matches for **Kotlin**\n\n---\n\nDone")
        == "**Matches for Kotlin**\n\n──────────\n\nDone"
    )


def test_html_is_escaped_outside_code_and_kept_inside() -> None:
    text = markdown_to_teams("Use <script>alert(1)</script> & `a<b`\n\n```html\n<b>x</b> & y\n```")

    assert text == "Use &lt;script&gt;alert(1)&lt;/script&gt; &amp; `a<b`\n\n```\n<b>x</b> & y\n```"
    check_teams_text(text)


def test_lines_are_separated_by_blank_lines_because_teams_ignores_single_newlines() -> None:
    assert markdown_to_teams("Anna knows Kotlin.\nBob knows Java.\n\n\n\nDone.") == (
        "Anna knows Kotlin.\n\nBob knows Java.\n\nDone."
    )


def test_lists_use_glyphs_that_look_the_same_on_desktop_and_mobile() -> None:
    text = markdown_to_teams("- Anna\n  - Kotlin\n    - coroutines\n\n- Bob\n1. first\n2) second")

    assert text.split("\n\n") == [
        "• Anna",
        "\u00a0\u00a0\u00a0\u00a0◦ Kotlin",
        "\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0▪ coroutines",
        "• Bob",
        "1\\. first",
        "2\\. second",
    ]


def test_links_are_kept_when_teams_can_open_them() -> None:
    text = markdown_to_teams(
        "See [Anna's CV](https://sp.example.com/cv?id=1&v=2) or [local](cv/anna.md), "
        "![photo](https://img.example.com/a.png) and https://jira.example.com/browse/SM-1."
    )

    assert text == (
        "See [Anna's CV](https://sp.example.com/cv?id=1&v=2) or local, "
        "[photo](https://img.example.com/a.png) and https://jira.example.com/browse/SM-1."
    )


def test_a_narrow_table_becomes_an_aligned_code_block_and_a_wide_one_bullet_lines() -> None:
    narrow = markdown_to_teams("| Name | Free |\n|---|:-:|\n| **Anna** | 80% |\n| Bob | 50% |")
    wide = markdown_to_teams(
        "| Name | Evidence |\n|---|---|\n| Anna | " + "Led a very long banking migration project " * 3 + "|"
    )

    assert narrow == "```\nName   Free\n----   ----\nAnna   80%\nBob    50%\n```"
    assert wide.startswith("• **Anna** · Evidence: Led a very long banking")
    check_teams_text(narrow)
    check_teams_text(wide)


def test_code_blocks_lose_their_language_tag_and_an_unclosed_one_is_closed() -> None:
    assert markdown_to_teams("```python\nx = 1\n\ny = 2\n```") == "```\nx = 1\n\ny = 2\n```"
    assert markdown_to_teams("Here:\n```\nprint('cut off") == "Here:\n\n```\nprint('cut off\n```"


@pytest.mark.parametrize(
    "markdown",
    [
        "",
        "\x00",
        "plain\r\nwindows\r\n",
        "> quoted <tag>",
        "| a | b |\n|---|---|",
        "\\# not a heading \\<b\\>",
        "** not bold ** and __init__ and 2 * 3 * 4",
        "- [ ] task\n- [x] done",
    ],
)
def test_odd_markdown_never_produces_html_headings_or_tables(markdown: str) -> None:
    text = markdown_to_teams(markdown)
    if text:
        check_teams_text(text)


# -- size --

ADVERSARIAL = {
    "plain": "Anna knows Kotlin and AWS. " * 3000,
    "emoji": "👍🚀 " * 20_000,
    "quotes and newlines": ('"quoted" line\n' * 12_000),
    "one long word": "x" * 70_000,
    "german": "Größere Änderungen übernahm Jürgen. " * 2500,
    "cjk": "技能匹配候选人。" * 8000,
    "code": "```\n" + "print('a < b & c')\n" * 4000 + "```",
}


@pytest.mark.parametrize("name", list(ADVERSARIAL))
def test_every_piece_of_a_long_answer_fits_one_teams_message(name: str) -> None:
    activities = answer_activities(ADVERSARIAL[name])

    assert len(activities) > 1
    for activity in activities:
        assert utf16_size(activity["text"]) <= TEXT_BUDGET_BYTES
        assert utf16_size(envelope(activity)) <= MAX_ACTIVITY_BYTES
    joined = " ".join(a["text"] for a in activities)
    if name not in ("code", "one long word", "cjk"):  # no spaces to compare words by
        assert joined.split()[:50] == markdown_to_teams(ADVERSARIAL[name]).split()[:50]
    assert len("".join(joined.split())) >= len("".join(markdown_to_teams(ADVERSARIAL[name]).split())) * 0.99


def test_a_split_code_block_stays_code_in_every_piece() -> None:
    pieces = split_message(markdown_to_teams(ADVERSARIAL["code"]))

    assert len(pieces) > 1
    assert all(p.startswith("```") and p.endswith("```") for p in pieces)


def test_a_short_answer_is_one_message_with_the_ai_label_and_the_feedback_loop() -> None:
    [activity] = answer_activities("Anna Schmidt knows **Kotlin**.")

    assert activity == {
        "type": "message",
        "text": "Anna Schmidt knows **Kotlin**.",
        "textFormat": "markdown",
        "entities": [AI_ENTITY],
        "channelData": {"feedbackLoopEnabled": True},
    }


def test_only_the_last_part_of_a_long_answer_asks_for_feedback_and_the_card_comes_last() -> None:
    activities = answer_activities(
        ADVERSARIAL["plain"], [ANNA], note="Search-only answer: no language model."
    )

    *texts, card = activities
    assert [bool(a.get("channelData")) for a in texts] == [False] * (len(texts) - 1) + [True]
    assert all(a["entities"] == [AI_ENTITY] for a in texts)
    assert texts[0]["text"].startswith("_Search-only answer: no language model._")
    assert card == {"type": "message", "attachments": [candidates_card([ANNA])]}
    assert "text" not in card, "Teams splits an activity holding text and a card into two messages"


def test_no_text_and_no_candidates_is_no_activity() -> None:
    assert answer_activities("  \n ") == []


# -- the card --

CARD_ELEMENTS = {"TextBlock", "Container", "ColumnSet", "Column", "FactSet", "ActionSet"}


def elements(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, list):
        return [e for item in node for e in elements(item)]
    if not isinstance(node, dict):
        return []
    found = [node] if node.get("type") in CARD_ELEMENTS else []
    for key in ("body", "items", "columns"):
        found += elements(node.get(key, []))
    return found


def card_texts(card: dict[str, Any]) -> str:
    parts = [e.get("text", "") for e in elements(card["body"])]
    parts += [f["value"] for e in elements(card["body"]) if e["type"] == "FactSet" for f in e["facts"]]
    return "\n".join(parts)


def test_a_candidate_card_shows_name_role_location_availability_skills_evidence_and_the_cv() -> None:
    attachment = candidates_card([ANNA])
    card = attachment["content"]

    assert attachment["contentType"] == ADAPTIVE_CARD
    assert (card["type"], card["version"], card["msteams"]) == (
        "AdaptiveCard",
        CARD_VERSION,
        {"width": "Full"},
    )
    text = card_texts(card)
    for value in (
        "1. Anna Schmidt",
        "Senior Cloud Architect · Munich",
        "80% free",
        "Kotlin, AWS, Kubernetes",
    ):
        assert value in text
    assert "Led the migration of a banking platform" in text
    [button] = [a for e in elements(card["body"]) if e["type"] == "ActionSet" for a in e["actions"]]
    assert button == {
        "type": "Action.OpenUrl",
        "title": "Open CV (anna-schmidt-cv.pdf)",
        "url": ANNA["web_url"],
    }
    assert card["fallbackText"] == candidates_text([ANNA])
    assert all(e["type"] in CARD_ELEMENTS for e in elements(card["body"]))
    assert all(
        e.get("wrap", True)
        for e in elements(card["body"])
        if e["type"] == "TextBlock" and len(e["text"]) > 20
    )


def test_only_https_links_become_cv_buttons_and_names_stay_literal() -> None:
    odd = {**ANNA, "name": "*Eve* [admin](https://evil.example.com)", "web_url": "javascript:alert(1)"}
    card = candidates_card([odd])["content"]

    assert not [e for e in elements(card["body"]) if e["type"] == "ActionSet"]
    assert "CV: anna-schmidt-cv.pdf" in card_texts(card)
    assert "1. \\*Eve\\* \\[admin\\](https://evil.example.com)" in card_texts(card)


def test_a_sparse_record_still_makes_a_card() -> None:
    card = candidates_card([{"name": None, "skills": []}])["content"]

    assert "1. Unnamed" in card_texts(card)
    assert not [e for e in elements(card["body"]) if e["type"] == "FactSet"]


def test_an_oversized_card_drops_evidence_then_candidates_and_says_how_many_are_missing() -> None:
    huge = [
        {
            **ANNA,
            "name": f"Person {i} " + "N" * 300,
            "evidence": "E" * 5000,
            "skills": "; ".join(["Skill"] * 400),
        }
        for i in range(25)
    ]
    attachment = candidates_card(huge)

    assert utf16_size(envelope({"type": "message", "attachments": [attachment]})) <= MAX_ACTIVITY_BYTES
    text = card_texts(attachment["content"])
    shown = len(re.findall(r"(?m)^\d+\. Person", text))
    assert 1 <= shown < 8
    assert f"{25 - shown} more not shown" in text


def test_eight_realistic_candidates_fit_with_full_evidence() -> None:
    people = [{**ANNA, "name": f"Candidate {i}", "evidence": "Evidence sentence. " * 20} for i in range(8)]
    card = candidates_card(people)["content"]

    assert (
        utf16_size(envelope({"type": "message", "attachments": [candidates_card(people)]}))
        <= MAX_ACTIVITY_BYTES
    )
    assert "8. Candidate 7" in card_texts(card)
    assert "more not shown" not in card_texts(card)


def test_the_plain_text_fallback_has_no_markdown() -> None:
    text = candidates_text([ANNA, {"name": "Bob", "source": "bob.docx"}])

    assert text.splitlines() == [
        "1. Anna Schmidt — Senior Cloud Architect — Munich — 80% free",
        "   Skills: Kotlin, AWS, Kubernetes",
        "   “Led the migration of a banking platform to Kubernetes on AWS (2022-2024).”",
        f"   CV: {ANNA['web_url']}",
        "2. Bob",
        "   CV: bob.docx",
    ]


# -- wording --


def test_help_and_welcome_texts_render_in_teams_and_name_the_commands() -> None:
    for text in (help_text(), welcome_text("personal"), welcome_text("channel"), welcome_text("groupChat")):
        check_teams_text(text)
        assert utf16_size(text) < TEXT_BUDGET_BYTES
    assert "**new**" in help_text() and "@SkillMatch" in help_text()
    assert "**new**" in welcome_text("personal")
    assert "this team" in welcome_text("channel") and "this chat" in welcome_text("groupChat")
    assert new_conversation_text()


# -- through the real SDK to the fake connector --


async def test_every_activity_of_an_answer_passes_the_sdk_and_the_connector(
    entra: FakeEntra, connector: FakeBotConnector
) -> None:
    host = await start_host(None, entra)
    message = ta.channel_message("who knows Kotlin?", service_url=connector.service_url)
    reference = Activity.model_validate(message).get_conversation_reference()
    activities = answer_activities("# Result\n\n" + ADVERSARIAL["german"], [ANNA] * 8)

    async def send(context: TurnContext) -> None:
        for activity in activities:
            await context.send_activity(Activity.model_validate(activity))
        await context.send_activity(Activity.model_validate(text_activity(help_text(), ai_generated=False)))

    await host.adapter.continue_conversation(entra.app_id, reference.get_continuation_activity(), send)
    await host.http.close()

    assert connector.rejections() == []
    shown = connector.messages(message["conversation"]["id"])
    assert len(shown) == len(activities) + 1
    assert shown[-2]["attachments"][0]["contentType"] == ADAPTIVE_CARD
    for sent in shown:
        assert utf16_size(sent) <= MAX_ACTIVITY_BYTES
    roots = [e for e in shown[0]["entities"] if e.get("type") == "https://schema.org/Message"]
    assert roots == [AI_ENTITY]
    assert json.dumps(shown[len(activities) - 2].get("channelData")) == '{"feedbackLoopEnabled": true}'


def test_a_conversation_reference_round_trips_through_json() -> None:
    message = ta.personal_message("hi", service_url="https://smba.trafficmanager.net/emea/")
    reference = Activity.model_validate(message).get_conversation_reference()
    stored = reference.model_dump_json(by_alias=True, exclude_none=True)

    assert ConversationReference.model_validate_json(stored) == reference


def test_card_evidence_is_never_cut_so_that_it_reverses_its_meaning() -> None:
    from assistant.channels.teams_format import candidates_card, candidates_text

    prefix = ("Led SAP S/4HANA migrations for insurers, " * 10)[:384] + "; "
    evidence = prefix + "Java habe ich nicht eingesetzt."  # a plain cut at 400 ends "Java habe ich"
    candidate = {"name": "Jürgen Hartmann", "evidence": evidence}
    for shown in (json.dumps(candidates_card([candidate]), ensure_ascii=False), candidates_text([candidate])):
        assert "Java habe ich" not in shown or "nicht eingesetzt" in shown
