"""Telemetry.shutdown at the end of a command: sends what is queued, never waits longer than the flush
bound, and says whether the traces reached Langfuse."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy.orm import sessionmaker

from assistant.config import AssistantSettings
from assistant.telemetry import Telemetry
from tests.fakes.langfuse_server import FakeLangfuse, forget_langfuse


@pytest.fixture
def make_telemetry(fake_langfuse: FakeLangfuse) -> Iterator[Callable[..., Telemetry]]:
    keys: list[str] = []

    def make(**overrides: str) -> Telemetry:
        key = f"pk-lf-shutdown-{uuid.uuid4().hex[:8]}"
        keys.append(key)
        settings = AssistantSettings(
            _env_file=None,  # type: ignore[call-arg]
            LANGFUSE_PUBLIC_KEY=key,
            LANGFUSE_SECRET_KEY="sk-lf-test",
            LANGFUSE_BASE_URL=fake_langfuse.origin,
            **overrides,
        )
        telemetry = Telemetry(settings, sessionmaker())
        assert telemetry.client is not None
        with telemetry.client.start_as_current_observation(name="assistant.turn"):
            pass
        return telemetry

    yield make
    for key in keys:
        forget_langfuse(key)


def test_queued_traces_are_sent_at_shutdown(
    make_telemetry: Callable[..., Telemetry], fake_langfuse: FakeLangfuse
) -> None:
    telemetry = make_telemetry()
    assert telemetry.shutdown() and telemetry.traces_sent is True
    assert fake_langfuse.span_names() == ["assistant.turn"]
    assert telemetry.unsent_reason() is None


def test_a_refusing_langfuse_is_reported_not_waited_for(
    make_telemetry: Callable[..., Telemetry], fake_langfuse: FakeLangfuse
) -> None:
    fake_langfuse.fail_next(500, times=None)
    telemetry = make_telemetry()
    assert not telemetry.shutdown()
    assert telemetry.unsent_reason() == "it refused them or could not be reached"
    assert telemetry.shutdown() is False  # asked again: the same answer, no second attempt


def test_a_hanging_langfuse_gets_the_flush_bound_and_no_more(
    make_telemetry, fake_langfuse: FakeLangfuse
) -> None:  # type: ignore[no-untyped-def]
    fake_langfuse.hang_next(120, times=None)
    telemetry = make_telemetry(SKILLMATCH_TRACE_EXPORT_TIMEOUT="30", SKILLMATCH_TRACE_FLUSH_TIMEOUT="0.3")
    started = time.monotonic()
    assert not telemetry.shutdown()
    assert time.monotonic() - started < 10  # the export client alone would wait its 30 s
    assert telemetry.unsent_reason() == "no answer within 0.3 s"
    assert telemetry.exporter is not None and telemetry.exporter.abandoned  # nothing more is sent
