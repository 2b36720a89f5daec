"""A fake Bot Connector for Microsoft Teams: the service behind an activity's `serviceUrl`, where a bot
sends, replies, updates, deletes and streams. Built for the Microsoft 365 Agents SDK's real
`ConnectorClient` (and anything else speaking Bot Framework REST v3).

    with FakeEntra() as entra, FakeBotConnector(entra) as connector:
        activity = personal_message("hi", service_url=connector.service_url)
        ... POST it to /api/messages; the SDK answers through the connector ...
        connector.messages(activity["conversation"]["id"])[-1]["text"]

Routes, under `service_url` (`http://127.0.0.1:port/amer/`, a path prefix like Teams' regional URLs):
    POST   v3/conversations                                   create (proactive 1:1 or channel post)
    POST   v3/conversations/{conversationId}/activities       send
    POST   v3/conversations/{conversationId}/activities/{id}  reply (Teams threads by conversation id)
    PUT    v3/conversations/{conversationId}/activities/{id}  update a message the bot sent
    DELETE v3/conversations/{conversationId}/activities/{id}  delete it
Answers: 201 `{"id": ...}` for a new message, 200 for update/delete, errors as Teams writes them
(`{"error": {"code", "message"}}`): 401 without a token from `entra`'s token endpoint (body
`{"message": "Authorization has been denied for this request."}`), 413 `MessageSizeTooBig` above
`max_message_bytes` (the whole JSON measured as UTF-16, as Teams does; 40 KB by default, Teams' former
documented limit - stricter than today's 100 KB, which reports say is not reached in practice),
400 for more than one root `https://schema.org/Message` entity or more than 10 citations, 404 for
updating or deleting an unknown activity. With `entra=None` no token is asked for (anonymous local dev).

Streaming, as Teams documents it (bots/streaming-ux): a `typing` activity with a `streaminfo` entity
(`streamType` informative|streaming, `streamSequence` 1, 2, 3, ...) starts a stream; the answer
`201 {"id": streamId}` names it; later parts carry `streamId` and a higher `streamSequence` (`202 {}`);
a `message` with `streamType: final`, the `streamId` and no `streamSequence` ends it and becomes the
visible message (its id is the stream id). Rejected like Teams: streams outside personal chats (405),
a first part that is not sequence 1 or has no text (400), a final part with a sequence (400), parts of
a finished stream (403 `ContentStreamNotAllowed`), of an expired one (`expire_stream()`; Teams allows
two minutes: 403 "Content stream finished due to exceeded streaming time."), streaming text that does
not extend what was streamed (403), a stream part too large (403 "Message size too large"), parts
faster than `stream_min_interval` seconds (Teams throttles at about one per second; off by default).
A part whose sequence is not higher than the last is dropped with `202` and
`ContentStreamSequenceOrderPreConditionFailed`, as Teams does.

What the fake saw: `activities()` (everything posted, in order, with the id assigned), `messages()`
(what the conversation shows now: messages and finished streams, updates applied, deletions removed),
`typing()` (plain typing indicators), `streams()`, `updates()`, `deletes()`, `created()`,
`rejections()` (every request answered with an error, with the reason). Waits: `wait_for(predicate)`
and `await async_wait_for(predicate)`. Faults: `throttle_next(retry_after)` (429 + `Retry-After`),
`fail_next(status)` (5xx etc., from the base class), `hang_next(seconds)` (a stalled request;
`release()` or `stop()` end it).
"""

from __future__ import annotations

import asyncio
import copy
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import unquote

import jwt

from tests.fakes.entra_openid import FakeEntra
from tests.fakes.http_server import FakeServer, Matcher, RecordedRequest, Reply, _matcher
from tests.fakes.teams_activities import new_message_id

Activity = dict[str, Any]
Predicate = Callable[["FakeBotConnector"], bool]
StreamState = Literal["open", "final", "expired"]

MAX_MESSAGE_BYTES = 40 * 1024  # UTF-16 bytes of the activity JSON
MAX_CITATIONS = 10
ROOT_MESSAGE_ENTITY = "https://schema.org/Message"
DENIED = {"message": "Authorization has been denied for this request."}
_STREAM_NOT_ALLOWED = "ContentStreamNotAllowed"
_STREAM_COMPLETED = "Content stream is not allowed on an already completed streamed message"
_STREAM_TIMED_OUT = "Content stream finished due to exceeded streaming time."
_NOT_EXTENDING = "Request streamed content should contain the previously streamed content"
_OUT_OF_ORDER = "PreCondition failed exception when processing streaming activity."
_TEAMS_ERRORS = {
    400: ("BadArgument", "Bad request"),
    403: ("BotNotInConversationRoster", "The bot is not part of the conversation roster."),
    404: ("ConversationNotFound", "Conversation not found."),
    412: ("PreconditionFailed", "Precondition failed, please try again."),
    413: ("MessageSizeTooBig", "Message size too large."),
    429: ("Throttled", "Too many requests."),
    500: ("ServiceError", "Unknown error."),
    502: ("ServiceError", "Bad gateway."),
    503: ("ServiceUnavailable", "Service unavailable."),
}


class ConnectorError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


@dataclass
class Stream:
    """One streamed answer: the accepted parts in order, and how it ended."""

    id: str
    conversation_id: str
    parts: list[Activity] = field(default_factory=list)  # typing activities with streaminfo
    final: Activity | None = None
    state: StreamState = "open"
    last_sequence: int = 0
    streamed_text: str = ""
    last_part_at: float = 0.0

    @property
    def types(self) -> list[str]:
        """The streamType of every part, `final` included: e.g. informative, streaming, final."""
        return [
            _stream_info(part)["streamType"] for part in [*self.parts, *([self.final] if self.final else [])]
        ]

    @property
    def informative(self) -> list[str]:
        return [p.get("text", "") for p in self.parts if _stream_info(p)["streamType"] == "informative"]


@dataclass(frozen=True)
class Rejection:
    status: int
    code: str
    message: str
    method: str
    path: str
    activity: Activity | None


@dataclass(frozen=True)
class Posted:
    kind: Literal["send", "reply", "update", "delete", "create"]
    conversation_id: str
    activity_id: str | None
    activity: Activity | None


@dataclass
class _Hang:
    seconds: float
    times: int | None
    match: Callable[[RecordedRequest], bool]


def _stream_info(activity: Activity) -> dict[str, Any]:
    info = next(
        (e for e in activity.get("entities") or [] if isinstance(e, dict) and e.get("type") == "streaminfo"),
        None,
    )
    if info is None:
        return {}
    return {**info, "streamType": info.get("streamType") or "streaming"}


@dataclass(frozen=True)
class _StreamPart:
    final: bool
    stream_type: str
    sequence: int | None
    stream_id: str | None
    text: str


def _check_stream_part(activity: Activity, conversation_id: str) -> _StreamPart:
    """The rules a stream part must meet on its own (Teams' streaming-ux documentation)."""
    info = _stream_info(activity)
    final = activity.get("type") == "message"
    part = _StreamPart(
        final,
        info["streamType"],
        info.get("streamSequence"),
        info.get("streamId"),
        activity.get("text") or "",
    )
    if conversation_kind(activity, conversation_id) != "personal":
        raise ConnectorError(405, "MethodNotAllowed", "Streaming is only supported in one-on-one chats.")
    if final:
        if part.stream_type != "final":
            raise ConnectorError(
                400, "BadRequest", "A message activity can only end a stream (streamType final)."
            )
        if part.sequence is not None:
            raise ConnectorError(
                400, "BadRequest", "streamSequence must not be set on the final streamed message."
            )
        return part
    if activity.get("type") != "typing" or part.stream_type not in ("informative", "streaming"):
        raise ConnectorError(
            400, "BadRequest", f"Invalid streamType {part.stream_type!r} for a typing activity."
        )
    if not isinstance(part.sequence, int):
        raise ConnectorError(400, "BadRequest", "streamSequence is required for streaming activities.")
    if not part.text.strip():
        raise ConnectorError(400, "BadRequest", "Start streaming activities should include text.")
    return part


def utf16_size(data: Any) -> int:
    """The size Teams measures: the JSON payload encoded as UTF-16."""
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return len(text.encode("utf-16-le"))


def conversation_kind(activity: Activity | None, conversation_id: str) -> str:
    """personal, groupChat or channel: from the activity when it says, else from the id's shape."""
    declared = ((activity or {}).get("conversation") or {}).get("conversationType")
    if declared:
        return str(declared)
    if conversation_id.startswith("a:"):
        return "personal"
    return "groupChat" if "@thread.v2" in conversation_id else "channel"


class FakeBotConnector(FakeServer):
    def __init__(
        self,
        entra: FakeEntra | None,
        *,
        prefix: str = "/amer/",
        max_message_bytes: int = MAX_MESSAGE_BYTES,
        stream_min_interval: float = 0.0,
    ) -> None:
        super().__init__()
        self.entra = entra
        self.prefix = "/" + prefix.strip("/") + "/"
        self.max_message_bytes = max_message_bytes
        self.stream_min_interval = stream_min_interval
        self._state = threading.RLock()
        self._changed = threading.Condition(self._state)
        self._version = 0
        self._log: list[Posted] = []
        self._conversations: dict[str, list[Activity]] = {}  # visible messages, in posting order
        self._typing: list[Activity] = []
        self._streams: dict[str, Stream] = {}
        self._rejections: list[Rejection] = []
        self._hangs: list[_Hang] = []
        self._release = threading.Event()

    # -- lifecycle --

    def start(self) -> FakeBotConnector:
        self._release.clear()
        super().start()
        assert self._server is not None
        # A client that gave up on a hung request has closed its socket; the late reply then fails.
        self._server.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
        return self

    def stop(self) -> None:
        self._release.set()  # hung requests return at once instead of holding threads
        super().stop()

    @property
    def service_url(self) -> str:
        return f"{self.origin}{self.prefix}"

    # -- what tests read --

    def activities(self, conversation_id: str | None = None) -> list[Activity]:
        """Every activity accepted by send or reply, in arrival order (ids as assigned; stream parts
        carry their stream's id)."""
        return [
            p.activity
            for p in self._posted(conversation_id)
            if p.kind in ("send", "reply") and p.activity is not None
        ]

    def messages(self, conversation_id: str | None = None) -> list[Activity]:
        """What the conversation shows now: messages and finished streams, updated, minus deleted ones."""
        with self._state:
            if conversation_id is not None:
                return copy.deepcopy(self._conversations.get(conversation_id, []))
            return copy.deepcopy([m for ms in self._conversations.values() for m in ms])

    def typing(self, conversation_id: str | None = None) -> list[Activity]:
        """Plain typing indicators (without streaminfo)."""
        with self._state:
            return copy.deepcopy(
                [t for t in self._typing if conversation_id in (None, t["conversation"]["id"])]
            )

    def streams(self, conversation_id: str | None = None) -> list[Stream]:
        with self._state:
            return copy.deepcopy(
                [s for s in self._streams.values() if conversation_id in (None, s.conversation_id)]
            )

    def updates(self, conversation_id: str | None = None) -> list[Activity]:
        return [p.activity for p in self._posted(conversation_id) if p.kind == "update" and p.activity]

    def deletes(self, conversation_id: str | None = None) -> list[str]:
        return [p.activity_id for p in self._posted(conversation_id) if p.kind == "delete" and p.activity_id]

    def created(self) -> list[Posted]:
        return [p for p in self._posted(None) if p.kind == "create"]

    def rejections(self) -> list[Rejection]:
        with self._state:
            return list(self._rejections)

    def _posted(self, conversation_id: str | None) -> list[Posted]:
        with self._state:
            return copy.deepcopy([p for p in self._log if conversation_id in (None, p.conversation_id)])

    # -- test controls --

    def expire_stream(self, stream_id: str) -> None:
        """The stream ran past Teams' two-minute limit: later parts get 403."""
        with self._state:
            self._streams[stream_id].state = "expired"

    def throttle_next(self, retry_after: int = 1, times: int | None = 1, *, match: Matcher = None) -> None:
        """HTTP 429 `Throttled` with `Retry-After: retry_after` (seconds) for the next matching requests."""
        self.fail_next(429, times, headers={"Retry-After": str(retry_after)}, match=match)

    def hang_next(self, seconds: float, times: int | None = 1, *, match: Matcher = None) -> None:
        """Stall matching requests (recorded first) for up to `seconds`, then handle them normally."""
        with self._lock:
            self._hangs.append(_Hang(seconds, times, _matcher(match)))

    def release(self) -> None:
        """Let every stalled request continue now."""
        self._release.set()

    def wait_for(self, predicate: Predicate, timeout: float = 5.0) -> None:
        """Block until `predicate(fake)` holds (re-checked after every handled request); TimeoutError."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"FakeBotConnector did not satisfy the predicate within {timeout}s")
                self._changed.wait(timeout=remaining)

    async def async_wait_for(self, predicate: Predicate, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """`wait_for` for async tests: polls every 10 ms without blocking the event loop."""
        deadline = time.monotonic() + timeout
        while not predicate(self):
            if time.monotonic() >= deadline:
                raise TimeoutError(f"FakeBotConnector did not satisfy the predicate within {timeout}s")
            await asyncio.sleep(0.01)

    # -- routing --

    def error_body(self, status: int) -> bytes:
        code, message = _TEAMS_ERRORS.get(status, ("ServiceError", "Unknown error."))
        return json.dumps({"error": {"code": code, "message": message}}).encode()

    def route(self, request: RecordedRequest) -> Reply:
        self._stall(request)
        try:
            reply = self._route(request)
        except ConnectorError as error:
            activity = _json_or_none(request.body)
            with self._state:
                self._rejections.append(
                    Rejection(error.status, error.code, error.message, request.method, request.path, activity)
                )
            body = (
                DENIED if error.status == 401 else {"error": {"code": error.code, "message": error.message}}
            )
            reply = Reply.json(body, error.status)
        with self._changed:
            self._version += 1
            self._changed.notify_all()
        return reply

    def _stall(self, request: RecordedRequest) -> None:
        with self._lock:
            hang = next((h for h in self._hangs if h.match(request)), None)
            if hang is not None and hang.times is not None:
                hang.times -= 1
                if hang.times <= 0:
                    self._hangs.remove(hang)
        if hang is not None:
            self._release.wait(hang.seconds)

    def _route(self, request: RecordedRequest) -> Reply:
        if not request.path.startswith(self.prefix):
            raise ConnectorError(404, "NotFound", f"No route for {request.path}")
        parts = [unquote(p) for p in request.path[len(self.prefix) :].split("/")]
        self._authorize(request)
        if parts[:2] != ["v3", "conversations"]:
            raise ConnectorError(404, "NotFound", f"No route for {request.path}")
        if len(parts) == 2 and request.method == "POST":
            return self._create(_activity_body(request))
        if len(parts) in (4, 5) and parts[3] == "activities":
            conversation_id, activity_id = parts[2], (parts[4] if len(parts) == 5 else None)
            if request.method == "POST":
                return self._post(conversation_id, activity_id, _activity_body(request))
            if request.method == "PUT" and activity_id:
                return self._update(conversation_id, activity_id, _activity_body(request))
            if request.method == "DELETE" and activity_id:
                return self._delete(conversation_id, activity_id)
            raise ConnectorError(405, "MethodNotAllowed", f"{request.method} is not supported here")
        raise ConnectorError(404, "NotFound", f"No route for {request.path}")

    def _authorize(self, request: RecordedRequest) -> None:
        if self.entra is None:
            return
        scheme, _, token = (request.header("authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise ConnectorError(401, "Unauthorized", "no bearer token")
        try:
            self.entra.verify_access_token(token)
        except jwt.PyJWTError as error:
            raise ConnectorError(401, "Unauthorized", f"token rejected: {error}") from None

    def _check_message(self, activity: Activity, *, streaming: bool = False) -> None:
        if utf16_size(activity) > self.max_message_bytes:
            if streaming:
                raise ConnectorError(403, _STREAM_NOT_ALLOWED, "Message size too large")
            raise ConnectorError(413, "MessageSizeTooBig", "Message size too large.")
        roots = [
            e
            for e in activity.get("entities") or []
            if isinstance(e, dict) and (e.get("type") == ROOT_MESSAGE_ENTITY or e.get("@type") == "Message")
        ]
        if len(roots) > 1:
            raise ConnectorError(
                400, "BadArgument", "Multiple root message entities found in the bot activity."
            )
        if any(len(e.get("citation") or []) > MAX_CITATIONS for e in roots):
            raise ConnectorError(400, "BadArgument", "Bot message with more than 10 citations.")

    def _post(self, conversation_id: str, reply_to: str | None, activity: Activity) -> Reply:
        kind = "reply" if reply_to else "send"
        if _stream_info(activity):
            return self._stream(kind, conversation_id, reply_to, activity)
        activity_type = activity.get("type")
        if activity_type == "message":
            self._check_message(activity)
        new_id = new_message_id()
        stored = {**activity, "id": new_id}
        if reply_to:
            stored["replyToId"] = reply_to
        with self._state:
            self._log.append(Posted(kind, conversation_id, new_id, stored))
            if activity_type == "message":
                self._conversations.setdefault(conversation_id, []).append(stored)
            elif activity_type == "typing":
                self._typing.append(stored)
        if activity_type == "typing":
            return Reply.json({}, 201)
        return Reply.json({"id": new_id}, 201)

    def _stream(
        self, kind: Literal["send", "reply"], conversation_id: str, reply_to: str | None, activity: Activity
    ) -> Reply:
        part = _check_stream_part(activity, conversation_id)
        self._check_message(activity, streaming=True)
        now = time.monotonic()
        with self._state:
            if part.stream_id:
                stream = self._continue_stream(part, conversation_id, now)
                status, body = 202, {}
            else:
                if part.final or part.sequence != 1:
                    raise ConnectorError(
                        400, "BadRequest", "A stream starts with a typing part, streamSequence 1."
                    )
                stream = Stream(new_message_id(), conversation_id)
                self._streams[stream.id] = stream
                status, body = 201, {"id": stream.id}
            stored = {**activity, "id": stream.id}
            if reply_to:
                stored["replyToId"] = reply_to
            stream.last_part_at = now
            if part.final:
                stream.final, stream.state = stored, "final"
                self._conversations.setdefault(conversation_id, []).append(stored)
            else:
                stream.parts.append(stored)
                stream.last_sequence = part.sequence or 0
                if part.stream_type == "streaming":
                    stream.streamed_text = part.text
            self._log.append(Posted(kind, conversation_id, stream.id, stored))
        return Reply.json(body, status)

    def _continue_stream(self, part: _StreamPart, conversation_id: str, now: float) -> Stream:
        """The open stream `part` continues, or the error Teams answers (caller holds the state lock)."""
        stream = self._streams.get(part.stream_id or "")
        if stream is None or stream.conversation_id != conversation_id:
            raise ConnectorError(400, "BadRequest", f"Unknown streamId {part.stream_id!r}.")
        if stream.state == "final":
            raise ConnectorError(403, _STREAM_NOT_ALLOWED, _STREAM_COMPLETED)
        if stream.state == "expired":
            raise ConnectorError(403, _STREAM_NOT_ALLOWED, _STREAM_TIMED_OUT)
        if self.stream_min_interval and now - stream.last_part_at < self.stream_min_interval:
            raise ConnectorError(403, _STREAM_NOT_ALLOWED, "Content stream is not allowed")
        if not part.final and (part.sequence or 0) <= stream.last_sequence:
            # Teams drops a part that arrives out of order and says so with a 202.
            raise ConnectorError(202, "ContentStreamSequenceOrderPreConditionFailed", _OUT_OF_ORDER)
        if part.stream_type == "streaming" and not part.text.startswith(stream.streamed_text):
            raise ConnectorError(403, _STREAM_NOT_ALLOWED, _NOT_EXTENDING)
        return stream

    def _update(self, conversation_id: str, activity_id: str, activity: Activity) -> Reply:
        if activity.get("type") == "message":
            self._check_message(activity)
        with self._state:
            shown = self._conversations.get(conversation_id, [])
            index = next((i for i, m in enumerate(shown) if m["id"] == activity_id), None)
            if index is None:
                raise ConnectorError(
                    404, "NotFound", f"Activity {activity_id} not found in this conversation."
                )
            stored = {**activity, "id": activity_id}
            if shown[index].get("replyToId"):
                stored.setdefault("replyToId", shown[index]["replyToId"])
            shown[index] = stored
            self._log.append(Posted("update", conversation_id, activity_id, stored))
        return Reply.json({"id": activity_id}, 200)

    def _delete(self, conversation_id: str, activity_id: str) -> Reply:
        with self._state:
            shown = self._conversations.get(conversation_id, [])
            if not any(m["id"] == activity_id for m in shown):
                raise ConnectorError(
                    404, "NotFound", f"Activity {activity_id} not found in this conversation."
                )
            self._conversations[conversation_id] = [m for m in shown if m["id"] != activity_id]
            self._log.append(Posted("delete", conversation_id, activity_id, None))
        return Reply(200)

    def _create(self, parameters: Activity) -> Reply:
        """Teams creates (or finds) the 1:1 chat with `members[0]`, or posts `activity` as a new
        channel thread when `channelData.channel.id` is given."""
        channel = ((parameters.get("channelData") or {}).get("channel") or {}).get("id")
        members = parameters.get("members") or []
        tenant = parameters.get("tenantId") or (
            (parameters.get("channelData") or {}).get("tenant") or {}
        ).get("id")
        if not tenant:
            raise ConnectorError(400, "BadArgument", "tenantId is required.")
        first = parameters.get("activity")
        if channel:
            if not first:
                raise ConnectorError(400, "BadArgument", "A channel conversation needs an activity.")
            activity_id = new_message_id()
            conversation_id = f"{channel};messageid={activity_id}"
        elif len(members) == 1 and not parameters.get("isGroup"):
            member = members[0].get("id", "")
            conversation_id = f"a:1{abs(hash((member, tenant))):x}"
            activity_id = None
        else:
            raise ConnectorError(400, "BadArgument", "Bots can only create 1:1 chats or channel posts.")
        with self._state:
            self._log.append(Posted("create", conversation_id, activity_id, copy.deepcopy(parameters)))
            if first and activity_id:
                stored = {**first, "id": activity_id, "conversation": {"id": conversation_id}}
                self._conversations.setdefault(conversation_id, []).append(stored)
        body: dict[str, Any] = {"id": conversation_id, "serviceUrl": self.service_url}
        if activity_id:
            body["activityId"] = activity_id
        return Reply.json(body, 201)


def _json_or_none(body: bytes) -> Activity | None:
    try:
        value = json.loads(body or b"null")
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _activity_body(request: RecordedRequest) -> Activity:
    value = _json_or_none(request.body)
    if value is None:
        raise ConnectorError(400, "BadArgument", "The request body must be a JSON object.")
    return value
