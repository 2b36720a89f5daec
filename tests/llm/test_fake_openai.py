"""The chat side of FakeOpenAI: wire format, scripting, and a hang that never holds up stop()."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import openai
import pytest

from assistant.llm import LLMRequest, RoutedLLM
from tests.fakes.http_server import Reply
from tests.fakes.openai_server import ChatReply, FakeOpenAI
from tests.llm.conftest import openai_provider

MakeLLM = Callable[..., RoutedLLM]


def post(
    url: str, body: dict[str, Any], headers: dict[str, str], timeout: float = 5.0
) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json", **headers}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_sse_stream_is_in_openai_wire_format(primary: FakeOpenAI) -> None:
    primary.enqueue_reply("Hello there", usage={"prompt_tokens": 3, "completion_tokens": 2})
    body = {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    status, headers, raw = post(
        f"{primary.base_url}/chat/completions", body, {"Authorization": "Bearer sk-test"}
    )
    assert status == 200 and headers["Content-Type"].startswith("text/event-stream")
    events = raw.decode().split("\n\n")
    assert events[-2:] == ["data: [DONE]", ""]
    chunks = [json.loads(event.removeprefix("data: ")) for event in events[:-2]]
    assert all(c["object"] == "chat.completion.chunk" and c["model"] == "gpt-4o-mini" for c in chunks)
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    deltas = [c["choices"][0]["delta"].get("content") for c in chunks[1:-2]]
    assert deltas == ["Hello ", "there"]
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert all(c["usage"] is None for c in chunks[:-1])
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] == 5


def test_stream_without_include_usage_has_no_usage_chunk(primary: FakeOpenAI) -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    _, _, raw = post(f"{primary.base_url}/chat/completions", body, {"Authorization": "Bearer sk-test"})
    chunks = [json.loads(e.removeprefix("data: ")) for e in raw.decode().split("\n\n")[:-2]]
    assert all("usage" not in c for c in chunks) and chunks[-1]["choices"][0]["finish_reason"] == "stop"


def test_replies_come_from_the_queue_then_the_responder_then_echo(primary: FakeOpenAI) -> None:
    client = openai.OpenAI(api_key="sk-test", base_url=primary.base_url, max_retries=0)

    def ask(text: str) -> str | None:
        completion = client.chat.completions.create(model="m", messages=[{"role": "user", "content": text}])
        return completion.choices[0].message.content

    primary.enqueue_reply("first")
    primary.enqueue_reply("second")
    assert [ask("a"), ask("b")] == ["first", "second"]
    assert ask("c") == "echo: c"
    primary.responder = lambda body: f"{len(body['messages'])} message(s)"
    assert ask("d") == "1 message(s)"
    primary.responder = lambda body: ChatReply(content="dynamic", finish_reason="length")
    completion = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "e"}])
    assert (completion.choices[0].message.content, completion.choices[0].finish_reason) == (
        "dynamic",
        "length",
    )
    primary.responder = lambda body: Reply.json({"error": {"message": "custom"}}, status=418)
    with pytest.raises(openai.APIStatusError, match="custom"):
        ask("f")
    assert [r.json()["messages"][0]["content"] for r in primary.chat_requests()] == list("abcdef")
    client.close()


def test_azure_path_needs_api_key_header_and_api_version(primary: FakeOpenAI) -> None:
    url = f"{primary.azure_endpoint}/openai/deployments/dep/chat/completions"
    body = {"messages": [{"role": "user", "content": "hi"}]}
    assert post(url + "?api-version=2024-10-21", body, {"Authorization": "Bearer sk-test"})[0] == 401
    assert post(url, body, {"api-key": "sk-test"})[0] == 404
    status, _, raw = post(url + "?api-version=2024-10-21", body, {"api-key": "sk-test"})
    assert status == 200 and json.loads(raw)["model"] == "dep"


def test_stop_releases_a_hung_request_at_once() -> None:
    fake = FakeOpenAI().start()
    fake.hang_next(30)
    url = f"{fake.base_url}/chat/completions"
    result: list[int] = []
    caller = threading.Thread(
        target=lambda: result.append(
            post(url, {"model": "m", "messages": []}, {"Authorization": "Bearer sk-test"}, timeout=10)[0]
        )
    )
    caller.start()
    assert fake.hang_started.wait(5)
    started = time.monotonic()
    fake.stop()
    assert time.monotonic() - started < 2
    caller.join(5)
    assert result == [503]


async def test_a_multi_turn_tool_conversation(primary: FakeOpenAI, make_llm: MakeLLM) -> None:
    """How an engine drives the fake: a tool call, the tool's answer, then the final reply."""
    primary.enqueue_reply(
        tool_calls=[{"id": "call_1", "name": "search_people", "arguments": {"skill": "go"}}]
    )
    primary.responder = lambda body: (
        "Found: " + body["messages"][-1]["content"] if body["messages"][-1]["role"] == "tool" else "?"
    )
    llm = make_llm(openai_provider(primary.base_url))
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Who writes Go?"}]
    first = await llm.complete(LLMRequest(messages))
    messages += [
        first.assistant_message(),
        {"role": "tool", "tool_call_id": first.tool_calls[0]["id"], "content": "Ben Hall"},
    ]
    second = await llm.complete(LLMRequest(messages))
    assert second.content == "Found: Ben Hall"
    sent = primary.chat_requests()[1].json()["messages"]
    assert sent[1]["tool_calls"][0] == {
        "id": "call_1",
        "type": "function",
        "function": {"name": "search_people", "arguments": '{"skill": "go"}'},
    }
    assert sent[2] == {"role": "tool", "tool_call_id": "call_1", "content": "Ben Hall"}


def test_a_scripted_reply_can_break_or_turn_to_garbage_mid_stream(primary: FakeOpenAI) -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    headers = {"Authorization": "Bearer sk-test"}
    url = f"{primary.base_url}/chat/completions"
    primary.enqueue_reply("one two three", broken_after=2)
    primary.enqueue_reply("one two three", garbage_after=1)
    primary.enqueue_reply("one two three")
    broken = post(url, body, headers)[2].decode().split("\n\n")
    garbage = post(url, body, headers)[2].decode().split("\n\n")
    whole = post(url, body, headers)[2].decode().split("\n\n")
    assert json.loads(broken[-2].removeprefix("data: "))["error"]["message"] == "worker died"
    assert [
        json.loads(e.removeprefix("data: "))["choices"][0]["delta"].get("content") for e in broken[1:3]
    ] == [
        "one ",
        "two ",
    ]
    with pytest.raises(json.JSONDecodeError):
        json.loads(garbage[-2].removeprefix("data: "))
    assert "[DONE]" not in broken and "data: [DONE]" not in garbage and whole[-2] == "data: [DONE]"


def test_a_context_window_answers_longer_prompts_with_the_real_error(primary: FakeOpenAI) -> None:
    primary.context_window = 5
    client = openai.OpenAI(api_key="sk-test", base_url=primary.base_url, max_retries=0)
    short = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi there"}])
    assert short.choices[0].message.content == "echo: hi there"
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "one two three four five"}]
        )
    assert raised.value.code == "context_length_exceeded"
    assert "maximum context length is 5 tokens. However, your messages resulted in 6 tokens" in str(
        raised.value
    )
