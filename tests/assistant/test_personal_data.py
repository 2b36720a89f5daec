"""E-mail addresses and phone numbers never leave the process unmasked: not to Langfuse (inputs, outputs,
metadata, status messages, error texts, span names, session/user attributes) and not into logs."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest

from assistant.masking import install_log_masking, uninstall_log_masking
from tests.assistant.conftest import MakeRuntime, say
from tests.fakes.langfuse_server import FakeLangfuse, ReceivedSpan
from tests.fakes.openai_server import FakeOpenAI

MAIL = "max.muster@example.com"
PHONE = "+49 171 5550123"
EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
PHONE_RE = re.compile(r"5550123")


def everything_sent(spans: list[ReceivedSpan]) -> str:
    """Every string of every exported span: attributes, names, status descriptions, resource."""
    return json.dumps(
        [[s.name, s.status_description, s.attributes, s.resource_attributes] for s in spans],
        ensure_ascii=False,
        default=str,
    )


async def test_personal_data_in_every_field_arrives_masked_at_langfuse(
    make_runtime: MakeRuntime, fake_openai: FakeOpenAI, fake_langfuse: FakeLangfuse
) -> None:
    rt = make_runtime()
    key = f"console:{MAIL}"  # a hostile thread key; real ones are platform ids
    # The provider's error text names the user (a proxy echoing the request, say), then it recovers.
    error = {
        "error": {"message": f"upstream refused the request of {MAIL} / {PHONE}", "type": "server_error"}
    }
    fake_openai.fail_next(500, body=json.dumps(error).encode())
    # The model asks for a profile by e-mail and phone (the tool fails, naming them) and calls a tool whose
    # name is an e-mail address; then it answers with the contact data.
    fake_openai.enqueue_reply(
        tool_calls=[
            {"name": "get_person_profile", "arguments": json.dumps({"person": f"{MAIL} {PHONE}"})},
            {"name": f"tool_{MAIL}", "arguments": "{}"},
        ]
    )
    fake_openai.enqueue_reply(f"Write to {MAIL} or call {PHONE}.")
    _, reply = await say(rt, key, f"Who fits? Reach me at {MAIL} or {PHONE}", user_id=MAIL)
    assert reply.status == "ok"
    rt.telemetry.flush()
    spans = fake_langfuse.spans
    tool_errors = [s for s in spans if s.observation_type == "tool" and s.level == "ERROR"]
    assert tool_errors and all("[email]" in (s.status_message or "") for s in tool_errors)
    failed_generation = next(s for s in spans if s.observation_type == "generation" and s.level == "ERROR")
    assert "[email]" in (failed_generation.status_message or "")
    assert all(s.user_id == "[email]" for s in spans)
    sent = everything_sent(spans)
    assert not EMAIL_RE.search(sent), EMAIL_RE.search(sent)
    assert not PHONE_RE.search(sent)


async def test_a_failed_turn_reaches_langfuse_masked(
    make_runtime: MakeRuntime, fake_openai: FakeOpenAI, fake_langfuse: FakeLangfuse
) -> None:
    rt = make_runtime()
    error = {"error": {"message": f"no quota left for {MAIL}", "type": "server_error"}}
    fake_openai.fail_next(500, times=None, body=json.dumps(error).encode())
    _, reply = await say(rt, "console:x", "Python developer with FastAPI")
    assert reply.status == "degraded"
    rt.telemetry.flush()
    root = fake_langfuse.span_named("assistant.turn")
    assert root.level == "ERROR" and "[email]" in (root.status_message or "")
    assert not EMAIL_RE.search(everything_sent(fake_langfuse.spans))


@pytest.fixture
def masked_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    logger = logging.getLogger("skillmatch.test.personal")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    install_log_masking()
    try:
        yield stream
    finally:
        uninstall_log_masking()
        logger.removeHandler(handler)


def test_log_records_are_masked_in_messages_arguments_and_tracebacks(masked_log: io.StringIO) -> None:
    logger = logging.getLogger("skillmatch.test.personal")
    logger.warning("reply to %s, call %s", MAIL, PHONE)
    logger.info(f"profile of {MAIL}")
    try:
        raise ValueError(f"no person named {MAIL} ({PHONE})")
    except ValueError:
        logger.exception("tool failed for %r", {"person": MAIL})
    text = masked_log.getvalue()
    assert not EMAIL_RE.search(text) and "5550123" not in text
    assert text.count("[email]") == 4 and "[phone]" in text
    assert "ValueError: no person named [email] ([phone])" in text  # the traceback is kept, masked


def test_masking_keeps_ordinary_log_lines_and_can_be_uninstalled(masked_log: io.StringIO) -> None:
    logger = logging.getLogger("skillmatch.test.personal")
    logger.info("turn %s took %.1f ms on 2026-11-27 (%d tokens)", "4a29a3926d4edf6a", 1234.5, 1200)
    install_log_masking()  # twice is the same as once
    uninstall_log_masking()
    logger.info("after: %s", MAIL)
    install_log_masking()
    lines = masked_log.getvalue().splitlines()
    assert (
        lines[0]
        == "INFO skillmatch.test.personal turn 4a29a3926d4edf6a took 1234.5 ms on 2026-11-27 (1200 tokens)"
    )
    assert lines[1].endswith(MAIL)  # uninstalled: nothing is masked any more


async def test_the_engine_s_own_log_lines_are_masked(
    make_runtime: MakeRuntime, fake_openai: FakeOpenAI, masked_log: io.StringIO, caplog: Any
) -> None:
    rt = make_runtime(tracing=False)
    error = {"error": {"message": f"no quota left for {MAIL}", "type": "server_error"}}
    fake_openai.fail_next(500, times=None, body=json.dumps(error).encode())
    with caplog.at_level(logging.WARNING):
        await say(rt, "console:y", "Python developer with FastAPI")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "LLM" in logged and "[email]" in logged and MAIL not in logged
