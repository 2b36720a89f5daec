"""A fake OpenAI-compatible API speaking the real wire format: embeddings and chat completions.

Embeddings are deterministic pseudo-random unit vectors seeded by the input text, so equal texts get
equal vectors and tests can assert on what was sent (batches, truncated inputs, model, dimensions).

Chat completions answer on `/v1/chat/completions` (OpenAI, vLLM; `Authorization: Bearer`) and on
Azure's `/openai/deployments/{deployment}/chat/completions?api-version=...` (`api-key` header), plain
JSON or SSE when the request says `stream: true` (a usage chunk when `stream_options.include_usage`).
Answers, first match wins:

    fake.enqueue_reply(content="Anna fits.", usage={"prompt_tokens": 9, "completion_tokens": 3})
    fake.enqueue_reply(tool_calls=[{"name": "search_people", "arguments": {"skills": ["python"]}}])
    fake.responder = lambda body: f"{len(body['messages'])} messages"   # when the queue is empty
    # neither: an echo of the last user message

Faults, on top of the base class's `fail_next(status, headers=...)` / `malformed_next()` (both take
precedence over everything below): `content_filter_next()`, `context_length_next(vllm=)`,
`no_tool_parser_next()`, `auth_fail_next(401|403)`, `hang_next(seconds)`, `broken_stream_next(after=)`,
`garbage_stream_next(after=)`. Error bodies are the ones the real services send. A scripted reply can
carry its own stream fault (`enqueue_reply(..., broken_after=2)` / `garbage_after=2`), so a test can
break exactly the second answer of a turn.

A context window: `fake.context_window = 800` answers every chat request whose prompt is longer (counted
in words, as the fake's usage is) with OpenAI's context-length error, numbers included, as a model with
that window would.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any, Self

import numpy as np

from tests.fakes.http_server import FakeServer, Matcher, RecordedRequest, Reply, _matcher

CHAT = "/chat/completions"

CONTENT_FILTER_MESSAGE = (
    "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. "
    "Please modify your prompt and retry. To learn more about our content filtering policies please read "
    "our documentation: https://go.microsoft.com/fwlink/?linkid=2198766"
)
NO_TOOL_PARSER_MESSAGE = (
    '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set'
)


def fake_vector(text: str, dim: int) -> list[float]:
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    vector = np.random.default_rng(seed).standard_normal(dim)
    return (vector / np.linalg.norm(vector)).round(6).tolist()


@dataclass
class ChatReply:
    """One scripted answer. `tool_calls` items: the wire shape or the short `{"name", "arguments"}`."""

    content: str | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    finish_reason: str | None = None  # default: "tool_calls" when there are any, else "stop"
    usage: dict[str, int] | None = None  # default: word counts of the request and the answer
    omit_usage: bool = False  # as vLLM may
    chunks: list[str] | None = None  # stream deltas; default: the content word by word
    broken_after: int | None = None  # streamed: this many content deltas, then an error event
    garbage_after: int | None = None  # streamed: this many content deltas, then a line that is not JSON


Responder = Callable[[dict[str, Any]], "ChatReply | str | dict[str, Any] | Reply"]


@dataclass
class _Hang:
    seconds: float
    times: int | None  # None: every matching request, until the fake stops
    match: Callable[[RecordedRequest], bool]


class FakeOpenAI(FakeServer):
    def __init__(
        self,
        *,
        dim: int = 32,
        api_key: str = "sk-test",
        models: Iterable[str] | None = None,
        deployments: Iterable[str] | None = None,
    ) -> None:
        """`models` / `deployments`: when given, other names answer 404 like vLLM / Azure do."""
        super().__init__()
        self.dim = dim
        self.api_key = api_key
        self.models = set(models) if models is not None else None
        self.deployments = set(deployments) if deployments is not None else None
        self.responder: Responder | None = None
        self._replies: deque[ChatReply] = deque()
        self._hangs: list[_Hang] = []
        self._broken_streams: deque[int] = deque()
        self._garbage_streams: deque[int] = deque()
        self.context_window: int | None = None  # prompt words; longer requests get the context error
        self._released = threading.Event()
        self.hang_started = threading.Event()  # set when a request starts hanging (tests wait on it)
        self._ids = itertools.count(1)

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"

    @property
    def azure_endpoint(self) -> str:
        return self.origin

    # -- lifecycle: hung requests must not keep stop() waiting, nor print broken pipes --

    def start(self) -> Self:
        self._released.clear()
        super().start()
        server = self._server
        assert server is not None

        def handle_error(request: Any, client_address: Any) -> None:
            if not isinstance(sys.exc_info()[1], ConnectionError):  # the client gave up on a hang
                ThreadingHTTPServer.handle_error(server, request, client_address)

        server.handle_error = handle_error  # type: ignore[method-assign]
        return self

    def stop(self) -> None:
        self._released.set()
        super().stop()

    # -- scripting --

    def enqueue_reply(
        self,
        content: str | None = None,
        tool_calls: list[dict[str, Any]] | None = None,
        *,
        usage: dict[str, int] | None = None,
        omit_usage: bool = False,
        finish_reason: str | None = None,
        chunks: list[str] | None = None,
        broken_after: int | None = None,
        garbage_after: int | None = None,
    ) -> None:
        reply = ChatReply(
            content,
            list(tool_calls or []),
            finish_reason,
            usage,
            omit_usage,
            chunks,
            broken_after,
            garbage_after,
        )
        with self._lock:
            self._replies.append(reply)

    def pending_replies(self) -> int:
        with self._lock:
            return len(self._replies)

    def chat_requests(self) -> list[RecordedRequest]:
        return self.requests_to(CHAT, "POST")

    def embedding_requests(self) -> list[RecordedRequest]:
        return self.requests_to("/embeddings", "POST")

    # -- faults with the bodies real providers send --

    def content_filter_next(self, *, with_code: bool = True, times: int = 1, match: Matcher = CHAT) -> None:
        """Azure's prompt-filter 400. `with_code=False`: only the `innererror` shape, no top-level code."""
        categories = ("hate", "self_harm", "sexual", "violence")
        result: dict[str, Any] = {name: {"filtered": False, "severity": "safe"} for name in categories}
        result["jailbreak"] = {"filtered": True, "detected": True}
        error = {
            "message": CONTENT_FILTER_MESSAGE,
            "type": None,
            "param": "prompt",
            "code": "content_filter" if with_code else None,
            "status": 400,
            "innererror": {"code": "ResponsibleAIPolicyViolation", "content_filter_result": result},
        }
        self.fail_next(400, times, body=json.dumps({"error": error}).encode(), match=match)

    def context_length_next(self, *, vllm: bool = False, times: int = 1, match: Matcher = CHAT) -> None:
        if vllm:
            error: dict[str, Any] = {
                "message": "This model's maximum context length is 32768 tokens. However, you requested "
                "33500 tokens (32300 in the messages, 1200 in the completion). Please reduce the length "
                "of the messages or completion.",
                "type": "BadRequestError",
                "param": None,
                "code": 400,
            }
        else:
            error = {
                "message": "This model's maximum context length is 128000 tokens. However, your messages "
                "resulted in 131072 tokens. Please reduce the length of the messages.",
                "type": "invalid_request_error",
                "param": "messages",
                "code": "context_length_exceeded",
            }
        self.fail_next(400, times, body=json.dumps({"error": error}).encode(), match=match)

    def no_tool_parser_next(self, *, times: int = 1, match: Matcher = CHAT) -> None:
        """vLLM started without `--enable-auto-tool-choice --tool-call-parser ...`, asked for tools."""
        error = {"message": NO_TOOL_PARSER_MESSAGE, "type": "BadRequestError", "param": None, "code": 400}
        self.fail_next(400, times, body=json.dumps({"error": error}).encode(), match=match)

    def auth_fail_next(self, status: int = 401, *, times: int = 1, match: Matcher = CHAT) -> None:
        if status == 401:
            error = {
                "message": "Incorrect API key provided: sk-te****test. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                "type": "invalid_request_error",
                "param": None,
                "code": "invalid_api_key",
            }
        else:
            error = {
                "message": "You have insufficient permissions for this operation.",
                "type": "invalid_request_error",
                "param": None,
                "code": "insufficient_permissions" if status == 403 else str(status),
            }
        self.fail_next(status, times, body=json.dumps({"error": error}).encode(), match=match)

    def hang_next(self, seconds: float, *, times: int | None = 1, match: Matcher = CHAT) -> None:
        """Hold the next matching requests for `seconds` before answering as usual (a slow server);
        `times=None` holds every matching request (a provider that hangs for good).

        Choose `seconds` well past the client's timeout: the client gives up, the server thread waits on
        an Event (never the test thread), and `stop()` releases it at once with a 503.
        """
        with self._lock:
            self._hangs.append(_Hang(seconds, times, _matcher(match)))

    def broken_stream_next(self, after: int = 1) -> None:
        """The next streamed answer sends `after` content deltas, then an error event (a worker died)."""
        with self._lock:
            self._broken_streams.append(after)

    def garbage_stream_next(self, after: int = 1) -> None:
        """The next streamed answer sends `after` content deltas, then a data line that is not JSON (a proxy
        that mangled the stream, a model server that crashed mid-write)."""
        with self._lock:
            self._garbage_streams.append(after)

    def error_body(self, status: int) -> bytes:
        kinds = {429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests")}
        kind, code, message = kinds.get(status, ("server_error", None, "The server had an error."))
        return json.dumps({"error": {"message": message, "type": kind, "param": None, "code": code}}).encode()

    # -- routing --

    def route(self, request: RecordedRequest) -> Reply:
        hang = self._take_hang(request)
        if hang is not None:
            self.hang_started.set()
        if hang is not None and self._released.wait(hang):
            return Reply.json({"error": {"message": "fake stopped", "type": "server_error"}}, 503)
        azure = re.fullmatch(r"/openai/deployments/([^/]+)(/.*)", request.path)
        if azure is not None:
            denied = self._check_azure(request, azure.group(1))
            path = azure.group(2)
        else:
            denied = self._check_bearer(request)
            path = request.path.removeprefix("/v1")
        if denied is not None:
            return denied
        if request.method == "POST" and path == "/embeddings":
            return self._embeddings(request)
        if request.method == "POST" and path == CHAT:
            body = request.json()
            if azure is None and self.models is not None and body.get("model") not in self.models:
                return _not_found_model(str(body.get("model")))
            window = self.context_window
            if window is not None and (used := _prompt_words(body)) > window:
                return _context_length_exceeded(window, used)
            return self._chat(body, azure.group(1) if azure else None)
        return Reply.json(
            {"error": {"message": f"no route {request.path}", "type": "invalid_request_error"}}, 404
        )

    def _take_hang(self, request: RecordedRequest) -> float | None:
        with self._lock:
            for hang in self._hangs:
                if hang.match(request):
                    if hang.times is not None:
                        hang.times -= 1
                        if hang.times <= 0:
                            self._hangs.remove(hang)
                    return hang.seconds
        return None

    def _check_bearer(self, request: RecordedRequest) -> Reply | None:
        if request.header("authorization") == f"Bearer {self.api_key}":
            return None
        error = {"message": "Incorrect API key provided", "type": "invalid_request_error"}
        return Reply.json({"error": {**error, "code": "invalid_api_key"}}, status=401)

    def _check_azure(self, request: RecordedRequest, deployment: str) -> Reply | None:
        if request.header("api-key") != self.api_key:
            message = (
                "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide "
                "a valid key for an active subscription and use a correct regional API endpoint for your "
                "resource."
            )
            return Reply.json({"error": {"code": "401", "message": message}}, 401)
        if not request.param("api-version"):
            return Reply.json({"error": {"code": "404", "message": "Resource not found"}}, 404)
        if self.deployments is not None and deployment not in self.deployments:
            message = (
                "The API deployment for this resource does not exist. If you created the deployment within "
                "the last 5 minutes, please wait a moment and try again."
            )
            return Reply.json({"error": {"code": "DeploymentNotFound", "message": message}}, 404)
        return None

    def _embeddings(self, request: RecordedRequest) -> Reply:
        body = request.json()
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        dim = int(body.get("dimensions") or self.dim)
        data = [
            {"object": "embedding", "index": i, "embedding": fake_vector(text, dim)}
            for i, text in enumerate(inputs)
        ]
        tokens = sum(len(str(text).split()) for text in inputs)
        return Reply.json(
            {
                "object": "list",
                "data": data,
                "model": body["model"],
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )

    # -- chat completions --

    def _next_reply(self, body: dict[str, Any]) -> ChatReply | Reply:
        with self._lock:
            scripted = self._replies.popleft() if self._replies else None
        if scripted is not None:
            return scripted
        if self.responder is not None:
            answer = self.responder(body)
            if isinstance(answer, ChatReply | Reply):
                return answer
            if isinstance(answer, str):
                return ChatReply(content=answer)
            return ChatReply(**answer)
        return ChatReply(content=f"echo: {_last_user_text(body.get('messages') or [])}")

    def _chat(self, body: dict[str, Any], deployment: str | None) -> Reply:
        reply = self._next_reply(body)
        if isinstance(reply, Reply):
            return reply
        model = str(body.get("model") or deployment)
        completion_id = f"chatcmpl-fake{next(self._ids)}"
        tool_calls = [
            _wire_tool_call(call, f"call_{completion_id}_{i}") for i, call in enumerate(reply.tool_calls)
        ]
        finish = reply.finish_reason or ("tool_calls" if tool_calls else "stop")
        usage = None if reply.omit_usage else _usage(reply, body, tool_calls)
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            with self._lock:
                broken_after = self._broken_streams.popleft() if self._broken_streams else None
                garbage_after = self._garbage_streams.popleft() if self._garbage_streams else None
            broken_after = reply.broken_after if reply.broken_after is not None else broken_after
            garbage_after = reply.garbage_after if reply.garbage_after is not None else garbage_after
            cut = garbage_after if garbage_after is not None else broken_after
            chunks = _stream_chunks(
                reply, tool_calls, finish, usage if include_usage else None, cut, garbage_after is not None
            )
            envelope = {"id": completion_id, "object": "chat.completion.chunk", "created": int(time.time())}
            lines = [
                chunk
                if isinstance(chunk, str)
                else f"data: {json.dumps({**envelope, 'model': model, **chunk})}\n\n"
                for chunk in chunks
            ]
            if cut is None:
                lines.append("data: [DONE]\n\n")
            headers = {"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache"}
            return Reply(200, "".join(lines).encode(), headers)
        message: dict[str, Any] = {"role": "assistant", "content": reply.content, "refusal": None}
        if tool_calls:
            message["tool_calls"] = tool_calls
        data: dict[str, Any] = {
            "id": completion_id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
            "system_fingerprint": None,
        }
        if usage is not None:
            data["usage"] = usage
        return Reply.json(data)


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return _text(message.get("content"))
    return ""


def _text(content: Any) -> str:
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content or "")


def _wire_tool_call(call: dict[str, Any], default_id: str) -> dict[str, Any]:
    if "function" in call:
        return {"id": call.get("id", default_id), "type": "function", "function": dict(call["function"])}
    arguments = call.get("arguments", {})
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments)
    return {
        "id": call.get("id", default_id),
        "type": "function",
        "function": {"name": call["name"], "arguments": arguments},
    }


def _usage(reply: ChatReply, body: dict[str, Any], tool_calls: list[dict[str, Any]]) -> dict[str, int]:
    if reply.usage is not None:
        usage = dict(reply.usage)
    else:
        prompt = _prompt_words(body)
        answer = " ".join([reply.content or "", *(c["function"]["arguments"] for c in tool_calls)])
        usage = {"prompt_tokens": prompt, "completion_tokens": len(answer.split())}
    usage.setdefault("total_tokens", usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0))
    return usage


def _stream_chunks(
    reply: ChatReply,
    tool_calls: list[dict[str, Any]],
    finish: str,
    usage: dict[str, int] | None,
    broken_after: int | None,
    garbage: bool = False,
) -> list[dict[str, Any] | str]:
    """The `choices`/`usage` part of every chunk, in OpenAI's order: role, content, tool calls, finish.
    With `broken_after`, the stream stops after that many content deltas with an error event, or (with
    `garbage`) with a raw SSE line that is not JSON."""
    with_usage = usage is not None

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return {"choices": [choice], **({"usage": None} if with_usage else {})}

    chunks: list[dict[str, Any] | str] = [chunk({"role": "assistant", "content": "", "refusal": None})]
    pieces = reply.chunks if reply.chunks is not None else re.findall(r"\S+\s*|\s+", reply.content or "")
    for n, piece in enumerate(pieces):
        if broken_after is not None and n >= broken_after:
            break
        chunks.append(chunk({"content": piece}))
    if broken_after is not None and garbage:
        return [*chunks, 'data: {"id": "chatcmpl-garbage", "choices": [{"delta": {"content": "Ann\n\n']
    if broken_after is not None:
        error = {"message": "worker died", "type": "InternalServerError", "param": None, "code": 500}
        return [*chunks, {"error": error}]
    for index, call in enumerate(tool_calls):
        head = {"index": index, "id": call["id"], "type": "function"}
        chunks.append(
            chunk({"tool_calls": [{**head, "function": {"name": call["function"]["name"], "arguments": ""}}]})
        )
        arguments = call["function"]["arguments"]
        middle = len(arguments) // 2
        for part in (arguments[:middle], arguments[middle:]):
            if part:
                chunks.append(chunk({"tool_calls": [{"index": index, "function": {"arguments": part}}]}))
    chunks.append(chunk({}, finish))
    if usage is not None:
        chunks.append({"choices": [], "usage": usage})
    return chunks


def _prompt_words(body: dict[str, Any]) -> int:
    return sum(len(_text(m.get("content")).split()) + 1 for m in body.get("messages") or [])


def _context_length_exceeded(window: int, used: int) -> Reply:
    error = {
        "message": f"This model's maximum context length is {window} tokens. However, your messages "
        f"resulted in {used} tokens. Please reduce the length of the messages.",
        "type": "invalid_request_error",
        "param": "messages",
        "code": "context_length_exceeded",
    }
    return Reply.json({"error": error}, 400)


def _not_found_model(model: str) -> Reply:
    error = {
        "message": f"The model `{model}` does not exist.",
        "type": "NotFoundError",
        "param": "model",
        "code": 404,
    }
    return Reply.json({"error": error}, 404)
