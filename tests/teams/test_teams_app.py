"""Teams end to end through the real SDK: personal chats (streamed answers, follow-ups, `new`), channel
reply chains and group chats (mentions, one final message), cards, feedback, welcome and help, tokens,
tenants, bots, redeliveries and slow turns."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from assistant.masking import langfuse_mask
from skillmatch.models import Feedback
from tests.fakes import teams_activities as ta
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.entra_openid import FakeEntra
from tests.fakes.langfuse_server import FakeLangfuse, isolated_langfuse
from tests.fakes.openai_server import FakeOpenAI
from tests.replicas import wait_until
from tests.teams.conftest import TeamsApp, start_app

pytestmark = pytest.mark.filterwarnings("ignore::aiohttp.web.NotAppKeyWarning")
CARD = "application/vnd.microsoft.card.adaptive"


def texts(app: TeamsApp, conversation_id: str) -> list[str]:
    return [m.get("text") or "" for m in app.answers(conversation_id)]


def cards(app: TeamsApp, conversation_id: str) -> list[dict[str, Any]]:
    return [
        a["content"]
        for m in app.answers(conversation_id)
        for a in m.get("attachments") or []
        if a.get("contentType") == CARD
    ]


def user_questions(openai: FakeOpenAI) -> list[list[str]]:
    return [
        [m["content"] for m in r.json()["messages"] if m["role"] == "user"] for r in openai.chat_requests()
    ]


async def test_a_personal_chat_question_is_streamed_and_answered_with_a_card(teams_app: TeamsApp) -> None:
    teams_app.openai.responder = None
    teams_app.openai.enqueue_reply(
        tool_calls=[{"name": "search_candidates", "arguments": json.dumps({"query": "Kubernetes bank"})}]
    )
    teams_app.openai.enqueue_reply("**Anna Schmidt** led a Kubernetes migration for a bank.")
    activity = ta.personal_message(
        "Who could lead a Kubernetes migration?", service_url=teams_app.connector.service_url
    )
    response = await teams_app.send(activity)
    assert response.status in (200, 202)
    await teams_app.settle()
    conversation = activity["conversation"]["id"]
    answer, card_message = teams_app.answers(conversation)
    assert "Anna Schmidt" in answer["text"] and answer["replyToId"] == activity["id"]
    assert answer["channelData"]["feedbackLoopEnabled"] is True
    assert any("AIGeneratedContent" in e.get("additionalType", []) for e in answer["entities"])
    [stream] = teams_app.connector.streams(conversation)
    assert (
        stream.types[0] == "informative" and stream.types[-1] == "final"
    )  # "Searching CVs…", then the answer
    assert "Searching CVs" in (stream.parts[0].get("text") or "")
    assert "Anna Schmidt" in json.dumps(cards(teams_app, conversation)[0])
    assert card_message["attachments"][0]["contentType"] == CARD
    assert teams_app.connector.rejections() == []


async def test_a_follow_up_continues_and_new_starts_over(teams_app: TeamsApp) -> None:
    url = teams_app.connector.service_url
    for text in ("Python developer with FastAPI", "only Cologne"):
        await teams_app.send(ta.personal_message(text, service_url=url))
        await teams_app.settle()
    new = ta.personal_message("new", service_url=url)
    await teams_app.send(new)
    await teams_app.settle()
    await teams_app.send(ta.personal_message("SAP consultant", service_url=url))
    await teams_app.settle()
    assert user_questions(teams_app.openai) == [
        ["Python developer with FastAPI"],
        ["Python developer with FastAPI", "only Cologne"],
        ["SAP consultant"],
    ]
    assert "new conversation" in texts(teams_app, new["conversation"]["id"])[2].lower()
    with teams_app.runtime.sessions() as session:
        from skillmatch.models import Conversation

        keys = sorted(session.scalars(select(Conversation.thread_key)))
    base = f"teams:{ta.TENANT_ID}:{new['conversation']['id']}"
    assert keys == [base, f"{base}#2"]


async def test_a_channel_mention_is_answered_in_its_reply_chain_without_streaming(
    teams_app: TeamsApp,
) -> None:
    url = teams_app.connector.service_url
    post = ta.channel_message("Data engineer with Airflow?", service_url=url)
    await teams_app.send(post)
    await teams_app.settle()
    follow_up = ta.channel_message("only Hamburg", service_url=url, thread_root=post["id"])
    await teams_app.send(follow_up)
    not_for_us = ta.channel_message("lunch?", service_url=url, thread_root=post["id"], mention=False)
    await teams_app.send(not_for_us)
    await teams_app.settle()
    chain = post["conversation"]["id"]
    assert follow_up["conversation"]["id"] == chain
    assert texts(teams_app, chain)[0] == "Answer to: Data engineer with Airflow?"
    assert "Answer to: only Hamburg" in texts(teams_app, chain)
    assert teams_app.connector.streams(chain) == [] and teams_app.connector.typing(chain)
    assert user_questions(teams_app.openai)[-1] == ["Data engineer with Airflow?", "only Hamburg"]


async def test_a_group_chat_answers_only_when_mentioned(teams_app: TeamsApp) -> None:
    url = teams_app.connector.service_url
    await teams_app.send(ta.group_chat_message("chatting among ourselves", service_url=url, mention=False))
    asked = ta.group_chat_message("Scrum master for an insurer?", service_url=url)
    await teams_app.send(asked)
    await teams_app.settle()
    assert texts(teams_app, asked["conversation"]["id"]) == ["Answer to: Scrum master for an insurer?"]


async def test_feedback_becomes_a_langfuse_score_with_the_comment_and_a_row(
    sample_db_url: str, entra: FakeEntra, connector: FakeBotConnector, fake_openai: FakeOpenAI
) -> None:
    public_key = f"pk-lf-teams-{uuid.uuid4().hex[:8]}"
    with (
        FakeLangfuse() as langfuse,
        isolated_langfuse(langfuse, public_key=public_key, mask=langfuse_mask) as client,
    ):
        app = await start_app(
            sample_db_url,
            entra,
            connector,
            fake_openai,
            langfuse=client,
            LANGFUSE_PUBLIC_KEY=public_key,
            LANGFUSE_SECRET_KEY="sk-lf-test",
            LANGFUSE_BASE_URL=langfuse.origin,
        )
        try:
            asked = ta.personal_message("Embedded C++ developer", service_url=connector.service_url)
            await app.send(asked)
            await app.settle()
            answer = app.answers(asked["conversation"]["id"])[0]
            vote = ta.feedback_invoke(
                answer["id"],
                "dislike",
                "Wrong city, write to lead@example.com",
                service_url=connector.service_url,
            )
            response = await app.send(vote)
            assert response.status == 200 and await response.read() == b""
            again = await app.send(vote)  # a second click by the same person counts once
            assert again.status == 200
            client.flush()
            turn = langfuse.span_named("assistant.turn")
            assert [(s["traceId"], s["name"], s["value"]) for s in langfuse.scores] == [
                (turn.trace_id, "user_feedback", 0.0)
            ]
            assert "lead@example.com" not in json.dumps(langfuse.scores)
            with app.runtime.sessions() as session:
                row = session.scalars(select(Feedback)).one()
            assert row.value == 0.0 and row.comment is not None and row.comment.startswith("Wrong city")
        finally:
            await app.settle()
            await app.close()


async def test_welcome_help_and_activities_that_ask_nothing(teams_app: TeamsApp) -> None:
    url = teams_app.connector.service_url
    added = ta.members_added(service_url=url)
    await teams_app.send(added)
    personal = added["conversation"]["id"]
    assert "SkillMatch" in texts(teams_app, personal)[0]
    await teams_app.send(ta.personal_message("help", service_url=url))
    assert "How to ask" in texts(teams_app, personal)[1]
    for quiet in (
        ta.message_reaction("1700000000000", service_url=url),
        ta.message_update("1700000000001", "edited", service_url=url),
        ta.message_delete("1700000000002", service_url=url),
        ta.typing(service_url=url),
        ta.bot_message("build failed, @SkillMatch", service_url=url),
    ):
        assert (await teams_app.send(quiet)).status in (200, 202)
    await teams_app.settle()
    assert len(teams_app.answers(personal)) == 2
    assert teams_app.openai.chat_requests() == []


async def test_missing_or_invalid_tokens_get_401_and_nothing_is_processed(teams_app: TeamsApp) -> None:
    activity = ta.personal_message("Kotlin developer", service_url=teams_app.connector.service_url)
    assert (await teams_app.send(activity, headers={})).status == 401
    assert (await teams_app.send(activity, expired=True)).status == 401
    assert (await teams_app.send(activity, audience="someone-else")).status == 401
    assert (await teams_app.send(activity, signed_by="unknown-key")).status == 401
    await teams_app.settle()
    assert teams_app.connector.activities() == [] and teams_app.openai.chat_requests() == []


async def test_other_tenants_get_a_polite_refusal(
    sample_db_url: str, entra: FakeEntra, connector: FakeBotConnector, fake_openai: FakeOpenAI
) -> None:
    app = await start_app(sample_db_url, entra, connector, fake_openai, TEAMS_ALLOWED_TENANTS=ta.TENANT_ID)
    try:
        outsider = ta.personal_message(
            "Kotlin?", service_url=connector.service_url, tenant_id=ta.OTHER_TENANT_ID
        )
        await app.send(outsider)
        await app.settle()
        assert "isn't enabled for your organisation" in texts(app, outsider["conversation"]["id"])[0]
        assert fake_openai.chat_requests() == []
    finally:
        await app.close()


async def test_a_redelivered_activity_during_a_slow_turn_gets_one_answer_proactively(
    teams_app: TeamsApp,
) -> None:
    release = threading.Event()
    teams_app.openai.responder = lambda body: (release.wait(30), "Slow but complete")[1]
    activity = ta.personal_message("a slow question", service_url=teams_app.connector.service_url)
    try:
        first = await teams_app.send(activity)
        assert first.status in (200, 202)  # acknowledged long before the turn ends
        await wait_until(lambda: bool(teams_app.openai.chat_requests()), 20, "the model call")
        again = await teams_app.send(activity)  # Teams redelivers after its 15 s timeout
        assert again.status in (200, 202)
    finally:
        release.set()
    await teams_app.settle()
    conversation = activity["conversation"]["id"]
    assert [t for t in texts(teams_app, conversation) if "Slow but complete" in t] == ["Slow but complete"]
    assert len(teams_app.openai.chat_requests()) == 1


async def test_a_provider_outage_gets_the_search_answer_with_a_note(teams_app: TeamsApp) -> None:
    teams_app.openai.fail_next(500, times=None)
    activity = ta.personal_message(
        "Python developer with FastAPI", service_url=teams_app.connector.service_url
    )
    await teams_app.send(activity)
    await teams_app.settle()
    [answer] = teams_app.answers(activity["conversation"]["id"])
    assert "unavailable" in answer["text"] and "Ahmet Demir" in answer["text"]


async def test_a_long_answer_is_split_within_teams_limits(teams_app: TeamsApp) -> None:
    teams_app.openai.responder = lambda body: "\n\n".join(
        f"Paragraph {i}: " + "evidence " * 300 for i in range(20)
    )
    activity = ta.personal_message("tell me everything", service_url=teams_app.connector.service_url)
    await teams_app.send(activity)
    await teams_app.settle()
    parts = texts(teams_app, activity["conversation"]["id"])
    assert len(parts) >= 2 and "Paragraph 0" in parts[0] and "Paragraph 19" in parts[-1]
    assert teams_app.connector.rejections() == []


async def test_tokens_and_the_client_secret_never_reach_the_logs(
    teams_app: TeamsApp, caplog: pytest.LogCaptureFixture
) -> None:
    activity = ta.personal_message("Kotlin developer", service_url=teams_app.connector.service_url)
    headers = teams_app.entra.headers_for(activity)
    with caplog.at_level(logging.DEBUG):
        await teams_app.send(activity, headers=headers)
        await teams_app.send(activity, expired=True)  # a refused token is not logged either
        await teams_app.settle()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    secrets = [
        teams_app.entra.client_secret,
        headers["Authorization"].split()[-1],
        *teams_app.entra.issued_tokens(),
    ]
    assert teams_app.answers(activity["conversation"]["id"])  # the turn really ran, with tokens in use
    assert not [s for s in secrets if s and s in logged]
