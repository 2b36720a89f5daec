"""The fake Langfuse server driven by the real Langfuse 5 SDK: export, scores, prompts, read-back, outages."""

from __future__ import annotations

import base64
import gzip
import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from langfuse import Langfuse, observe, propagate_attributes
from langfuse.api import NotFoundError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.fakes.langfuse_server import (
    OTLP_TRACES_PATH,
    Attr,
    FakeLangfuse,
    isolated_langfuse,
)


@pytest.fixture
def fake() -> Iterator[FakeLangfuse]:
    with FakeLangfuse() as server:
        yield server


@pytest.fixture
def public_key() -> str:
    return f"pk-lf-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def langfuse(fake: FakeLangfuse, public_key: str) -> Iterator[Langfuse]:
    with isolated_langfuse(fake, public_key=public_key, timeout=2) as client:
        yield client


@observe(as_type="tool")
def search_people(skill: str) -> list[str]:
    return ["Ada", "Grace"]


def _pipeline(langfuse: Langfuse, question: str, session_id: str) -> str:
    """A span (root), a tool (via @observe) and a generation (via start_as_current_observation)."""

    @observe(name="answer-question")
    def answer(question: str) -> str:
        with propagate_attributes(session_id=session_id, user_id="u-42", metadata={"team": "staffing"}):
            people = search_people("python")
            prompt = langfuse.get_prompt("system", max_retries=0)
            with langfuse.start_as_current_observation(
                name="llm-call",
                as_type="generation",
                model="gpt-test",
                input=[{"role": "user", "content": question}],
                prompt=prompt,
            ) as generation:
                generation.update(
                    output={"role": "assistant", "content": ", ".join(people)},
                    usage_details={"input": 120, "output": 8},
                    cost_details={"input": 0.001, "output": 0.0005},
                    metadata={"candidates": 2},
                )
            return ", ".join(people)

    return answer(question, langfuse_public_key=langfuse._resources.public_key)  # type: ignore[union-attr]


def test_trace_with_span_tool_and_generation_is_decoded(fake: FakeLangfuse, langfuse: Langfuse) -> None:
    fake.add_prompt("system", "You staff projects.", version=4)

    assert _pipeline(langfuse, "Who knows Python?", "sess-1") == "Ada, Grace"
    langfuse.flush()

    assert fake.errors == []
    traces = fake.traces()
    assert len(traces) == 1
    [spans] = traces.values()
    assert {s.name for s in spans} == {"answer-question", "search_people", "llm-call"}
    root, tool, generation = (fake.span_named(n) for n in ("answer-question", "search_people", "llm-call"))
    assert len(root.trace_id) == 32 and len(root.span_id) == 16
    assert root.parent_span_id is None and root.is_root
    assert tool.parent_span_id == root.span_id and generation.parent_span_id == root.span_id
    assert [s.observation_type for s in (root, tool, generation)] == ["span", "tool", "generation"]
    assert all(s.session_id == "sess-1" and s.user_id == "u-42" for s in spans)
    assert all(s.trace_metadata == {"team": "staffing"} for s in spans)

    assert generation.model == "gpt-test"
    assert generation.usage == {"input": 120, "output": 8}
    assert generation.cost == {"input": 0.001, "output": 0.0005}
    assert generation.input == [{"role": "user", "content": "Who knows Python?"}]
    assert generation.output == {"role": "assistant", "content": "Ada, Grace"}
    assert generation.metadata == {"candidates": 2}
    assert (generation.prompt_name, generation.prompt_version) == ("system", 4)
    assert generation.attributes[Attr.USAGE] == '{"input": 120, "output": 8}'  # raw: JSON text
    assert tool.input == {"args": ["python"], "kwargs": {}} and tool.output == ["Ada", "Grace"]
    assert root.output == "Ada, Grace" and root.level == "DEFAULT"

    [export] = fake.export_requests()
    assert export.header("content-encoding") == "gzip"
    assert export.header("content-type") == "application/x-protobuf"
    assert (
        export.header("authorization")
        == "Basic " + base64.b64encode(f"{root.public_key}:sk-lf-test".encode()).decode()
    )
    assert root.scope_name == "langfuse-sdk"


def test_seeded_trace_id_and_error_level(fake: FakeLangfuse, langfuse: Langfuse, public_key: str) -> None:
    trace_id = Langfuse.create_trace_id(seed="slack-thread-123")

    @observe()
    def failing() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError):
        failing(langfuse_trace_id=trace_id, langfuse_public_key=public_key)
    langfuse.flush()

    span = fake.span_named("failing")
    assert span.trace_id == trace_id == Langfuse.create_trace_id(seed="slack-thread-123")
    assert span.level == "ERROR" and span.status_message == "boom" and span.status_code == 2


def test_scores_reach_the_fake(fake: FakeLangfuse, langfuse: Langfuse) -> None:
    trace_id = Langfuse.create_trace_id()
    langfuse.create_score(name="relevance", value=0.8, trace_id=trace_id, comment="good match")
    langfuse.create_score(name="feedback", value="thumbs_up", session_id="sess-1", data_type="CATEGORICAL")
    langfuse.flush()

    assert [s["name"] for s in fake.scores] == ["relevance", "feedback"]
    relevance = fake.scores_named("relevance")[0]
    assert relevance["traceId"] == trace_id and relevance["value"] == 0.8
    assert relevance["comment"] == "good match" and relevance["id"]
    feedback = fake.scores_named("feedback")[0]
    assert feedback["sessionId"] == "sess-1" and feedback["dataType"] == "CATEGORICAL"
    [request] = fake.requests_to("/api/public/scores", "POST")
    assert isinstance(request.json(), list)  # v5 batches scores; the fake answers 202 {"message": "Accepted"}


def test_get_prompt_by_label_version_and_folder(fake: FakeLangfuse, langfuse: Langfuse) -> None:
    fake.add_prompt("matcher", "Find {{skill}} people.", version=1, config={"model": "gpt-test"})
    fake.add_prompt("matcher", "Find {{skill}} experts.", version=2, labels=["staging"])
    fake.add_prompt("team/chat", [{"role": "system", "content": "Be brief."}], version=7)

    production = langfuse.get_prompt("matcher", max_retries=0)
    assert (production.version, production.prompt, production.config) == (
        1,
        "Find {{skill}} people.",
        {"model": "gpt-test"},
    )
    assert production.compile(skill="Rust") == "Find Rust people."
    assert langfuse.get_prompt("matcher", label="staging", max_retries=0).version == 2
    assert langfuse.get_prompt("matcher", label="latest", max_retries=0).version == 2
    assert langfuse.get_prompt("matcher", version=1, max_retries=0).prompt == "Find {{skill}} people."
    chat = langfuse.get_prompt("team/chat", type="chat", max_retries=0)
    assert chat.version == 7 and chat.compile() == [{"role": "system", "content": "Be brief."}]
    assert fake.requests_to("/api/public/v2/prompts/team%2Fchat")  # folder names are URL-encoded

    with pytest.raises(NotFoundError) as raised:
        langfuse.get_prompt("missing", max_retries=0)
    assert raised.value.body["error"] == "LangfuseNotFoundError"


def test_observations_read_back_through_the_public_api(fake: FakeLangfuse, langfuse: Langfuse) -> None:
    fake.add_prompt("system", "You staff projects.", version=4)
    before = datetime.now(UTC) - timedelta(seconds=1)
    _pipeline(langfuse, "Who knows Python?", "sess-a")
    _pipeline(langfuse, "Who knows Go?", "sess-b")
    langfuse.flush()
    trace_ids = {s.trace_id for s in fake.spans if s.session_id == "sess-a"}
    assert len(trace_ids) == 1
    trace_a = trace_ids.pop()

    response = langfuse.api.observations.get_many(
        trace_id=trace_a, type="GENERATION", fields="core,basic,model,usage,io,prompt"
    )
    [generation] = response.data
    assert generation.name == "llm-call" and generation.type == "GENERATION"
    assert generation.trace_id == trace_a and generation.session_id == "sess-a"
    assert generation.model == "gpt-test"
    assert generation.usage_details == {"input": 120, "output": 8, "total": 128}
    assert generation.cost_details == {"input": 0.001, "output": 0.0005}
    assert (generation.prompt_name, generation.prompt_version) == ("system", 4)
    assert json.loads(generation.input) == [{"role": "user", "content": "Who knows Python?"}]  # raw string
    assert response.meta.cursor is None

    by_session = langfuse.api.observations.get_many(session_id="sess-b")
    assert {o.name for o in by_session.data} == {"answer-question", "search_people", "llm-call"}
    assert by_session.data[0].model is None  # only the requested field groups (default core,basic)

    assert len(langfuse.api.observations.get_many(name="search_people").data) == 2
    in_window = langfuse.api.observations.get_many(from_start_time=before, to_start_time=datetime.now(UTC))
    assert len(in_window.data) == 6
    assert (
        langfuse.api.observations.get_many(from_start_time=datetime.now(UTC) + timedelta(hours=1)).data == []
    )
    structured = json.dumps([{"type": "string", "column": "type", "operator": "=", "value": "TOOL"}])
    assert {o.type for o in langfuse.api.observations.get_many(filter=structured).data} == {"TOOL"}

    pages, cursor = [], None
    while True:
        page = langfuse.api.observations.get_many(limit=4, cursor=cursor)
        pages.append(page.data)
        cursor = page.meta.cursor
        if cursor is None:
            break
    assert [len(p) for p in pages] == [4, 2]
    assert len({o.id for p in pages for o in p}) == 6


def test_export_outage_does_not_reach_the_caller(
    fake: FakeLangfuse, langfuse: Langfuse, public_key: str
) -> None:
    @observe()
    def work() -> int:
        return 42

    fake.fail_next(500, times=None, match=OTLP_TRACES_PATH)
    started = time.monotonic()
    assert work(langfuse_public_key=public_key) == 42
    langfuse.flush()  # returns: the exporter logs the failure and drops the batch (500 is not retried)
    assert time.monotonic() - started < 1.5
    assert fake.spans == [] and len(fake.export_requests()) == 1

    fake.clear_faults()
    work(langfuse_public_key=public_key)
    langfuse.flush()
    assert fake.span_names() == ["work"]


def test_transient_503_is_retried_by_the_exporter(
    fake: FakeLangfuse, langfuse: Langfuse, public_key: str
) -> None:
    @observe()
    def work() -> None:
        pass

    fake.fail_next(503, times=2, headers={"Retry-After": "0"}, match=OTLP_TRACES_PATH)
    work(langfuse_public_key=public_key)
    langfuse.flush()
    assert len(fake.export_requests()) == 3 and fake.span_names() == ["work"]


def test_hanging_server_times_out_the_export_and_stops_cleanly(public_key: str) -> None:
    fake = FakeLangfuse().start()
    try:
        with isolated_langfuse(fake, public_key=public_key, timeout=1) as langfuse:

            @observe()
            def work() -> str:
                return "done"

            fake.hang_next(30)
            started = time.monotonic()
            assert work(langfuse_public_key=public_key) == "done"
            langfuse.flush()
            assert time.monotonic() - started < 3  # the SDK's timeout, not the hang
            assert fake.spans == [] and len(fake.export_requests()) == 1
    finally:
        started = time.monotonic()
        fake.stop()
        assert time.monotonic() - started < 2


def test_wrong_credentials_get_401_and_nothing_is_stored(public_key: str) -> None:
    with (
        FakeLangfuse(keys={public_key: "sk-right"}) as fake,
        isolated_langfuse(fake, public_key=public_key, secret_key="sk-wrong") as langfuse,
    ):

        @observe()
        def work() -> int:
            return 1

        assert work(langfuse_public_key=public_key) == 1
        langfuse.flush()
        assert fake.spans == []
        [export] = fake.export_requests()
        assert export.headers["authorization"].startswith("Basic ")
        assert langfuse.api.health.health().status == "OK"  # health needs no credentials
        with pytest.raises(Exception, match="401"):
            langfuse.auth_check()


def test_auth_check_and_projects(langfuse: Langfuse) -> None:
    assert langfuse.auth_check() is True
    trace_id = Langfuse.create_trace_id()
    assert langfuse.get_trace_url(trace_id=trace_id).endswith(f"/project/fake-project/traces/{trace_id}")


def test_tracing_disabled_by_environment_sends_nothing(
    fake: FakeLangfuse, public_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANGFUSE_TRACING_ENABLED", "false")
    with isolated_langfuse(fake, public_key=public_key) as langfuse:

        @observe()
        def work() -> int:
            return 7

        assert work(langfuse_public_key=public_key) == 7
        langfuse.create_score(name="ignored", value=1.0, trace_id=Langfuse.create_trace_id())
        langfuse.flush()
    assert fake.requests == []


def test_observe_without_public_key_is_silent_when_several_clients_exist(fake: FakeLangfuse) -> None:
    with isolated_langfuse(fake) as first, isolated_langfuse(fake):

        @observe()
        def work() -> int:
            return 3

        assert work() == 3  # no langfuse_public_key: get_client() refuses to guess, nothing is traced
        first.flush()
    assert fake.spans == []


def test_raw_otlp_json_and_malformed_bodies(fake: FakeLangfuse) -> None:
    auth = ("pk-raw", "sk-raw")
    span = {
        "traceId": "0af7651916cd43dd8448eb211c80319c",
        "spanId": "b7ad6b7169203331",
        "name": "raw",
        "startTimeUnixNano": "1700000000000000000",
        "endTimeUnixNano": "1700000001000000000",
        "attributes": [
            {"key": Attr.TYPE, "value": {"stringValue": "agent"}},
            {"key": "n", "value": {"intValue": "3"}},
            {"key": "xs", "value": {"arrayValue": {"values": [{"boolValue": True}, {"doubleValue": 1.5}]}}},
            {
                "key": "kv",
                "value": {"kvlistValue": {"values": [{"key": "a", "value": {"stringValue": "b"}}]}},
            },
        ],
    }
    body = {"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"spans": [span]}]}]}
    with httpx.Client(base_url=fake.origin, auth=auth) as client:
        reply = client.post(OTLP_TRACES_PATH, json=body)
        assert reply.status_code == 200
        [received] = fake.spans
        assert (received.trace_id, received.span_id, received.parent_span_id) == (
            span["traceId"],
            span["spanId"],
            None,
        )
        assert received.attributes == {Attr.TYPE: "agent", "n": 3, "xs": [True, 1.5], "kv": {"a": "b"}}
        assert received.duration_ms == 1000

        garbage = client.post(
            OTLP_TRACES_PATH,
            content=gzip.compress(b"\xff\xff not protobuf"),
            headers={"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip"},
        )
        assert garbage.status_code == 400
        empty = client.post(
            OTLP_TRACES_PATH,
            content=ExportTraceServiceRequest().SerializeToString(),
            headers={"Content-Type": "application/x-protobuf"},
        )
        assert empty.status_code == 200
        unauthenticated = httpx.post(fake.origin + OTLP_TRACES_PATH, content=b"")
        assert unauthenticated.status_code == 401
        assert unauthenticated.json()["error"] == "UnauthorizedError"
    assert fake.errors == []


def test_background_export_without_flush_and_delay(fake: FakeLangfuse, public_key: str) -> None:
    with isolated_langfuse(fake, public_key=public_key, flush_interval=0.05) as langfuse:

        @observe()
        def work() -> None:
            pass

        work(langfuse_public_key=public_key)
        assert [s.name for s in fake.wait_for_spans(1, timeout=5)] == ["work"]

        fake.delay = 0.3
        fake.add_prompt("slow", "text")
        started = time.monotonic()
        langfuse.get_prompt("slow", max_retries=0)
        assert time.monotonic() - started >= 0.3
