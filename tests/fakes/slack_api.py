"""A fake of the Slack Web API (`https://slack.com/api/`) for the real `AsyncWebClient`, with a model of
what the app posted.

    with FakeSlack() as fake:
        client = AsyncWebClient(token=fake.token, base_url=fake.api_url)
        await client.chat_postMessage(channel="C0STAFFING", text="hi")
        fake.messages(channel="C0STAFFING")[0]["text"]  # "hi"

Wire format as Slack's: arguments from the query string, a form body (JSON-valued fields such as
`blocks` arrive as JSON strings there) or a JSON body; the token from `Authorization: Bearer` (or a
`token` form/query field); HTTP 200 with `{"ok": false, "error": ...}` for API errors (`not_authed`,
`invalid_auth`, `unknown_method`, `channel_not_found`, `message_not_found`, ...), HTTP 429 with
`Retry-After` for rate limits.

Methods: auth.test, chat.postMessage / update / postEphemeral / delete, chat.startStream /
appendStream / stopStream, assistant.threads.setStatus / setTitle / setSuggestedPrompts, views.publish,
conversations.replies / history / info, users.info. Also POSTs to `fake.response_url()` (slash command and
interactivity replies, see `responses()`) and downloads of files made with `add_file()`.

Streaming as Slack does it: `chat.startStream` needs `thread_ts`, and outside DMs also
`recipient_team_id` + `recipient_user_id` (else `missing_recipient_team_id` / `..._user_id`);
`fake.streaming_supported = False` makes it answer `channel_type_not_supported` (`streaming_error`);
appending to or stopping a stream that was stopped or expired (`expire_stream(ts)`, Slack ends streams
after about 5 minutes) answers `message_not_in_streaming_state`.

Faults: `rate_limit_next(method, retry_after, times)`, `error_next(method, error, times)`,
`hold_next(method)` (the call takes effect, but its answer waits until `release_holds()` or the fake
stops: a client killed meanwhile never learns it succeeded; `held` is set when one is waiting), plus the base
class's `fail_next(status, ...)` / `malformed_next()`. State: `messages()`, `calls(method)`,
`ephemerals()`, `views()`, `statuses()`, `titles()`, `suggested_prompts()`, `responses()`; waits:
`wait_for(predicate)` / `await async_wait_for(predicate)` with `predicate(fake) -> bool`.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from tests.fakes import slack_events
from tests.fakes.http_server import FakeServer, RecordedRequest, Reply
from tests.fakes.slack_events import (
    API_APP_ID,
    BOT_ID,
    BOT_NAME,
    BOT_TOKEN,
    BOT_USER_ID,
    TEAM_DOMAIN,
    TEAM_ID,
    TEAM_NAME,
    USER_ID,
    file_object,
    rich_text_blocks,
)

API_PREFIX = "/api/"
RESPONSE_URL_PREFIX = "/response_url/"
FILES_PREFIX = "/files-pri/"

# Arguments Slack accepts as JSON strings inside form bodies (and the SDK may pass as strings in JSON).
JSON_VALUED_ARGUMENTS = frozenset(
    {"blocks", "attachments", "metadata", "view", "prompts", "chunks", "loading_messages", "user_auth_blocks"}
)
CHUNK_TYPES = frozenset({"markdown_text", "task_update", "plan_update", "blocks"})

_CHANNEL_ID = re.compile(r"^[CDG][A-Z0-9]{2,}$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")

Predicate = Callable[["FakeSlack"], bool]

_LOGIN_PAGE = b"<!DOCTYPE html><html><head><title>Slack</title></head><body>Sign in to Slack</body></html>"


class SlackError(Exception):
    """Answered as HTTP 200 `{"ok": false, "error": error, **extra}`, as Slack does."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


def _missing(name: str) -> SlackError:
    return SlackError(
        "invalid_arguments", response_metadata={"messages": [f"[ERROR] missing required field: {name}"]}
    )


@dataclass
class _ScriptedError:
    method: str
    error: str
    times: int


def decode_arguments(request: RecordedRequest) -> dict[str, Any]:
    """The API arguments of a request as Slack reads them: query string, then a form or JSON body.
    JSON-valued form fields (`blocks`, `metadata`, ...) are decoded; undecodable ones stay strings."""
    args: dict[str, Any] = {k: v[-1] for k, v in request.query.items()}
    content_type = (request.header("content-type") or "").lower()
    if request.body:
        if content_type.startswith("application/json"):
            body = json.loads(request.body)
            if not isinstance(body, dict):
                raise SlackError("invalid_json")
            body.pop("token", None)  # Slack ignores a token inside a JSON body: it must be a header
            args.update(body)
        elif content_type.startswith("multipart/"):
            raise SlackError("invalid_post_type")  # file uploads are not modelled
        else:
            form = parse_qs(request.body.decode(), keep_blank_values=True)
            args.update({k: v[-1] for k, v in form.items()})
    for name in JSON_VALUED_ARGUMENTS & args.keys():
        if isinstance(args[name], str):
            with contextlib.suppress(ValueError):
                args[name] = json.loads(args[name])
    return args


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in {"1", "true"}


class FakeSlack(FakeServer):
    def __init__(
        self,
        *,
        token: str = BOT_TOKEN,
        team_id: str = TEAM_ID,
        bot_user_id: str = BOT_USER_ID,
        bot_id: str = BOT_ID,
        app_id: str = API_APP_ID,
    ) -> None:
        super().__init__()
        self.token = token
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.streaming_supported = True
        self.streaming_error = (
            "channel_type_not_supported"  # what chat.startStream answers when not supported
        )
        self.require_stream_recipients = True  # outside DMs, as Slack does
        self._changed = threading.Condition()
        self._version = 0
        self._messages: list[dict[str, Any]] = []  # the app's and seeded ones, in posting order
        self._ephemerals: list[dict[str, Any]] = []
        self._views: list[dict[str, Any]] = []
        self._statuses: list[dict[str, Any]] = []
        self._titles: list[dict[str, Any]] = []
        self._prompts: list[dict[str, Any]] = []
        self._responses: list[dict[str, Any]] = []
        self._users: dict[str, dict[str, Any]] = {}
        self._channels: dict[str, dict[str, Any]] = {}
        self._files: dict[str, tuple[bytes, str]] = {}
        self._scripted: list[_ScriptedError] = []
        self._view_ids: dict[str, str] = {}
        self._serial = 0
        self._holds: dict[str, int] = {}
        self._release = threading.Event()
        self.held = threading.Event()  # set when a held call has taken effect and its answer waits
        self._handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.delete": self._delete,
            "chat.startStream": self._start_stream,
            "chat.appendStream": self._append_stream,
            "chat.stopStream": self._stop_stream,
            "assistant.threads.setStatus": self._set_status,
            "assistant.threads.setTitle": self._set_title,
            "assistant.threads.setSuggestedPrompts": self._set_suggested_prompts,
            "views.publish": self._views_publish,
            "conversations.replies": self._conversations_replies,
            "conversations.history": self._conversations_history,
            "conversations.info": self._conversations_info,
            "users.info": self._users_info,
        }

    # -- addresses --

    @property
    def api_url(self) -> str:
        """For `AsyncWebClient(base_url=...)`; ends with "/" as the SDK joins method names onto it."""
        return f"{self.origin}{API_PREFIX}"

    def response_url(self, response_id: str | None = None) -> str:
        """A `response_url` for slash command / interactivity payloads that posts into this fake."""
        with self._lock:
            self._serial += 1
            response_id = response_id or f"R{self._serial:06d}"
        return f"{self.origin}{RESPONSE_URL_PREFIX}{response_id}"

    # -- scripting --

    def rate_limit_next(self, method: str, retry_after: int = 1, times: int | None = 1) -> None:
        """HTTP 429, `Retry-After: retry_after`, `{"ok": false, "error": "ratelimited"}` for `method`."""
        path = f"{API_PREFIX}{method}"
        self.fail_next(
            429,
            times,
            headers={"Retry-After": str(retry_after)},
            body=json.dumps({"ok": False, "error": "ratelimited"}).encode(),
            match=lambda request: request.path == path,
        )

    def error_next(self, method: str, error: str, times: int = 1) -> None:
        """Answer the next `times` authenticated calls of `method` with `{"ok": false, "error": error}`,
        e.g. `not_in_channel`, `channel_not_found`, `msg_too_long`, `message_not_in_streaming_state`."""
        with self._lock:
            self._scripted.append(_ScriptedError(method, error, times))

    def expire_stream(self, ts: str) -> None:
        """End the stream `ts` as Slack does after ~5 minutes: later appends/stops fail."""
        with self._lock:
            for message in self._messages:
                if message["ts"] == ts and message["stream_state"] == "streaming":
                    message["stream_state"] = "expired"
        self._notify()

    def add_user(
        self,
        user_id: str,
        *,
        name: str,
        real_name: str | None = None,
        email: str | None = None,
        tz: str = "Europe/Berlin",
        tz_offset: int = 3600,
        is_bot: bool = False,
        deleted: bool = False,
        **extra: Any,
    ) -> None:
        user = self._synthetic_user(user_id)
        real_name = real_name or name
        user.update(
            {"name": name, "real_name": real_name, "tz": tz, "tz_offset": tz_offset, "is_bot": is_bot}
        )
        user["deleted"] = deleted
        user["profile"].update({"real_name": real_name, "display_name": name, "email": email})
        if email is None:
            del user["profile"]["email"]  # without users:read.email Slack leaves it out
        user.update(extra)
        with self._lock:
            self._users[user_id] = user

    def add_channel(self, channel_id: str, **fields: Any) -> None:
        """Override what conversations.info answers for `channel_id` (e.g. `name=`, `is_private=`)."""
        channel = self._synthetic_channel(channel_id)
        channel.update(fields)
        with self._lock:
            self._channels[channel_id] = channel

    def seed_message(
        self,
        channel: str,
        text: str,
        user: str = USER_ID,
        ts: str | None = None,
        thread_ts: str | None = None,
    ) -> str:
        """A user's message that exists in Slack (for conversations.replies); not among `messages()`."""
        with self._lock:
            message = self._new_message(channel, text, None, thread_ts=thread_ts, user=user, ts=ts)
        self._notify()
        return message["ts"]

    def add_file(
        self,
        name: str,
        content: bytes,
        *,
        mimetype: str = "application/pdf",
        filetype: str = "pdf",
        user: str = USER_ID,
    ) -> dict[str, Any]:
        """A file object for `slack_events.message_file_share` whose `url_private` this fake serves —
        to a request with the bot token; without it, like Slack, a 200 HTML login page."""
        with self._lock:
            self._serial += 1
            file_id = f"F{self._serial:09d}"
        path = f"{FILES_PREFIX}{self.team_id}-{file_id}/{name}"
        with self._lock:
            self._files[path] = (content, mimetype)
        return file_object(
            name,
            file_id=file_id,
            mimetype=mimetype,
            filetype=filetype,
            size=len(content),
            user=user,
            url_private=f"{self.origin}{path}",
        )

    # -- what tests read --

    def messages(
        self, channel: str | None = None, thread_ts: str | None = None, *, include_deleted: bool = False
    ) -> list[dict[str, Any]]:
        """The app's messages in posting order (posted, streamed; updates applied in place). Keys: channel,
        ts, thread_ts, text, blocks, attachments, metadata, history (earlier versions), deleted,
        stream_state (None | "streaming" | "stopped" | "expired"), chunks (streamed chunks)."""
        with self._lock:
            found = [
                m
                for m in self._messages
                if m["bot_id"] is not None
                and (channel is None or m["channel"] == channel)
                and (thread_ts is None or m["thread_ts"] == thread_ts)
                and (include_deleted or not m["deleted"])
            ]
            return copy.deepcopy(found)

    def message(self, ts: str) -> dict[str, Any]:
        """The app's message `ts` (KeyError if there is none)."""
        for message in self.messages(include_deleted=True):
            if message["ts"] == ts:
                return message
        raise KeyError(ts)

    def calls(self, method: str) -> list[dict[str, Any]]:
        """Every request to `method` (faulted ones included), as decoded arguments, in order."""
        path = f"{API_PREFIX}{method}"
        out = []
        for request in self.requests:
            if request.path == path:
                try:
                    out.append(decode_arguments(request))
                except (SlackError, ValueError):
                    out.append({"_undecodable": request.body.decode(errors="replace")})
        return out

    def ephemerals(self, channel: str | None = None) -> list[dict[str, Any]]:
        """chat.postEphemeral calls: channel, user, text, blocks, thread_ts, message_ts."""
        return self._read(self._ephemerals, channel=channel)

    def views(self, user_id: str | None = None) -> list[dict[str, Any]]:
        """views.publish calls: user_id, view (as answered, with id and hash)."""
        return self._read(self._views, user_id=user_id)

    def statuses(self, thread_ts: str | None = None) -> list[dict[str, Any]]:
        """assistant.threads.setStatus calls: channel_id, thread_ts, status, loading_messages."""
        return self._read(self._statuses, thread_ts=thread_ts)

    def titles(self, thread_ts: str | None = None) -> list[dict[str, Any]]:
        """assistant.threads.setTitle calls: channel_id, thread_ts, title."""
        return self._read(self._titles, thread_ts=thread_ts)

    def suggested_prompts(self, thread_ts: str | None = None) -> list[dict[str, Any]]:
        """assistant.threads.setSuggestedPrompts calls: channel_id, thread_ts, title, prompts."""
        return self._read(self._prompts, thread_ts=thread_ts)

    def responses(self, response_id: str | None = None) -> list[dict[str, Any]]:
        """Payloads POSTed to response URLs (text, blocks, response_type, replace_original, ...), each
        with `response_id`."""
        return self._read(self._responses, response_id=response_id)

    def wait_for(self, predicate: Predicate, timeout: float = 5.0) -> None:
        """Block until `predicate(fake)` holds (re-checked whenever a request was handled); TimeoutError."""
        deadline = time.monotonic() + timeout
        while True:
            with self._changed:
                seen = self._version
            if predicate(self):
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"FakeSlack state did not satisfy the predicate within {timeout}s")
            with self._changed:
                if self._version == seen:
                    self._changed.wait(timeout=remaining)

    async def async_wait_for(self, predicate: Predicate, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """`wait_for` for async tests: polls every 10 ms without blocking the event loop; TimeoutError."""
        deadline = time.monotonic() + timeout
        while not predicate(self):
            if time.monotonic() >= deadline:
                raise TimeoutError(f"FakeSlack state did not satisfy the predicate within {timeout}s")
            await asyncio.sleep(0.01)

    # -- routing --

    def error_body(self, status: int) -> bytes:
        error = {429: "ratelimited", 503: "service_unavailable"}.get(status, "fatal_error")
        return json.dumps({"ok": False, "error": error}).encode()

    def _dispatch(self, request: RecordedRequest) -> Reply:
        try:
            return super()._dispatch(request)
        finally:
            self._notify()

    def route(self, request: RecordedRequest) -> Reply:
        if request.path.startswith(API_PREFIX):
            return self._api(request.path[len(API_PREFIX) :], request)
        if request.path.startswith(RESPONSE_URL_PREFIX) and request.method == "POST":
            return self._response_url(request.path[len(RESPONSE_URL_PREFIX) :], request)
        if request.path.startswith(FILES_PREFIX) and request.method in {"GET", "HEAD"}:
            return self._file(request)
        return Reply(404, b"Not Found", {"Content-Type": "text/plain"})

    def hold_next(self, method: str, times: int = 1) -> None:
        with self._lock:
            self._holds[method] = self._holds.get(method, 0) + times

    def release_holds(self) -> None:
        self._release.set()

    def stop(self) -> None:
        self._release.set()
        super().stop()

    def _held(self, method: str, reply: Reply) -> Reply:
        with self._lock:
            if not self._holds.get(method):
                return reply
            self._holds[method] -= 1
        reply.pause = lambda: (self.held.set(), self._release.wait(60))
        return reply

    def _api(self, method: str, request: RecordedRequest) -> Reply:
        return self._held(method, self._api_reply(method, request))

    def _api_reply(self, method: str, request: RecordedRequest) -> Reply:
        handler = self._handlers.get(method)
        try:
            if handler is None:
                raise SlackError("unknown_method", req_method=method)
            args = decode_arguments(request)
            self._authenticate(request, args)
            args.pop("token", None)
            with self._lock:
                self._take_scripted_error(method)
                result = handler(args)
        except SlackError as error:
            return self._slack({"ok": False, "error": error.error, **error.extra})
        return self._slack({"ok": True, **result})

    def _authenticate(self, request: RecordedRequest, args: dict[str, Any]) -> None:
        authorization = request.header("authorization") or ""
        token = authorization[len("Bearer ") :] if authorization.startswith("Bearer ") else args.get("token")
        if not token:
            raise SlackError("not_authed")
        if token != self.token:
            raise SlackError("invalid_auth")

    def _take_scripted_error(self, method: str) -> None:
        for scripted in self._scripted:
            if scripted.method == method:
                scripted.times -= 1
                if scripted.times <= 0:
                    self._scripted.remove(scripted)
                raise SlackError(scripted.error)

    @staticmethod
    def _slack(data: dict[str, Any]) -> Reply:
        return Reply.json(data, headers={"Content-Type": "application/json; charset=utf-8"})

    def _response_url(self, response_id: str, request: RecordedRequest) -> Reply:
        content_type = (request.header("content-type") or "").lower()
        if content_type.startswith("application/json"):
            payload = json.loads(request.body or b"{}")
        else:
            payload = {k: v[-1] for k, v in parse_qs(request.body.decode(), keep_blank_values=True).items()}
            if "payload" in payload:
                payload = json.loads(payload["payload"])
        with self._lock:
            self._responses.append({"response_id": response_id, **payload})
        return Reply.json({"ok": True})

    def _file(self, request: RecordedRequest) -> Reply:
        path = request.path.replace("/download/", "/")
        with self._lock:
            stored = self._files.get(path)
        if stored is None:
            return Reply(404, b"Not Found", {"Content-Type": "text/plain"})
        if request.header("authorization") != f"Bearer {self.token}":
            return Reply(200, _LOGIN_PAGE, {"Content-Type": "text/html; charset=utf-8"})
        content, mimetype = stored
        return Reply(200, content, {"Content-Type": mimetype})

    # -- state helpers (callers hold self._lock unless noted) --

    def _notify(self) -> None:
        with self._changed:
            self._version += 1
            self._changed.notify_all()

    def _read(self, items: list[dict[str, Any]], **filters: str | None) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(
                [i for i in items if all(v is None or i.get(k) == v for k, v in filters.items())]
            )

    def _new_message(
        self,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]] | None,
        *,
        thread_ts: str | None = None,
        user: str | None = None,
        ts: str | None = None,
        attachments: list[dict[str, Any]] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        message = {
            "channel": channel,
            "ts": ts or slack_events.ts(),
            "thread_ts": thread_ts,
            "text": text,
            "blocks": blocks,
            "attachments": attachments,
            "metadata": metadata,
            "user": user or self.bot_user_id,
            "bot_id": None if user else self.bot_id,
            "history": [],
            "edited_ts": None,
            "deleted": False,
            "stream_state": None,
            "chunks": [],
        }
        self._messages.append(message)
        return message

    def _find(self, channel: str | None, ts: str | None) -> dict[str, Any]:
        if not channel:
            raise SlackError("channel_not_found")
        for message in self._messages:
            if message["channel"] == channel and message["ts"] == ts and not message["deleted"]:
                return message
        raise SlackError("message_not_found")

    def _own(self, channel: str | None, ts: str | None) -> dict[str, Any]:
        message = self._find(channel, ts)
        if message["bot_id"] is None:
            raise SlackError("cant_update_message")
        return message

    def _wire(self, message: dict[str, Any], *, include_metadata: bool = True) -> dict[str, Any]:
        """A message as Slack returns it (text-only messages get the rich_text block Slack derives)."""
        text = message["text"] or ""
        wire: dict[str, Any] = {"user": message["user"], "type": "message", "ts": message["ts"]}
        if message["bot_id"] is not None:
            wire.update(
                {
                    "bot_id": message["bot_id"],
                    "app_id": self.app_id,
                    "bot_profile": {
                        "id": message["bot_id"],
                        "app_id": self.app_id,
                        "name": BOT_NAME,
                        "team_id": self.team_id,
                        "deleted": False,
                    },
                }
            )
        wire["text"] = text
        wire["team"] = self.team_id
        block_id = message["ts"].replace(".", "")[-5:]
        wire["blocks"] = (
            message["blocks"] if message["blocks"] is not None else rich_text_blocks(text, block_id)
        )
        if message["attachments"]:
            wire["attachments"] = message["attachments"]
        if message["thread_ts"] is not None:
            wire["thread_ts"] = message["thread_ts"]
            wire["parent_user_id"] = self._parent_user(message["channel"], message["thread_ts"])
        if message["edited_ts"] is not None:
            wire["edited"] = {"user": message["user"], "ts": message["edited_ts"]}
        if include_metadata and message["metadata"]:
            wire["metadata"] = message["metadata"]
        return wire

    def _parent_user(self, channel: str, thread_ts: str) -> str:
        for message in self._messages:
            if message["channel"] == channel and message["ts"] == thread_ts:
                return message["user"]
        return USER_ID

    @staticmethod
    def _blocks(args: dict[str, Any], name: str = "blocks") -> list[dict[str, Any]] | None:
        blocks = args.get(name)
        if blocks is None:
            return None
        if not isinstance(blocks, list) or not all(isinstance(b, dict) and "type" in b for b in blocks):
            raise SlackError("invalid_blocks_format" if not isinstance(blocks, list) else "invalid_blocks")
        return blocks

    @staticmethod
    def _metadata(args: dict[str, Any]) -> dict[str, Any] | None:
        metadata = args.get("metadata")
        if metadata is None:
            return None
        if not isinstance(metadata, dict) or "event_type" not in metadata:
            raise SlackError("invalid_metadata_format")
        return metadata

    @staticmethod
    def _require(args: dict[str, Any], *names: str) -> None:
        for name in names:
            if args.get(name) in (None, ""):
                raise _missing(name)

    # -- methods (called with self._lock held) --

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": TEAM_NAME,
            "user": BOT_NAME,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel")
        if not channel:
            raise SlackError("channel_not_found")
        text = args.get("text") or args.get("markdown_text") or ""
        blocks = self._blocks(args)
        attachments = args.get("attachments")
        if not text and not blocks and not attachments:
            raise SlackError("no_text")
        message = self._new_message(
            channel,
            text,
            blocks,
            thread_ts=args.get("thread_ts") or None,
            attachments=attachments,
            metadata=self._metadata(args),
        )
        return {"channel": channel, "ts": message["ts"], "message": self._wire(message)}

    def _update(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self._own(args.get("channel"), args.get("ts"))
        blocks = self._blocks(args)
        metadata = self._metadata(args)
        text = args.get("text", args.get("markdown_text"))
        kept_blocks = blocks if "blocks" in args else message["blocks"]
        kept_attachments = args["attachments"] if "attachments" in args else message["attachments"]
        if not (text if text is not None else message["text"]) and not kept_blocks and not kept_attachments:
            raise SlackError("no_text")
        message["history"].append(
            {k: copy.deepcopy(message[k]) for k in ("text", "blocks", "attachments", "metadata")}
        )
        if text is not None:
            message["text"] = text
        if "blocks" in args:  # omitted: the blocks stay, as on Slack
            message["blocks"] = blocks
        if "attachments" in args:
            message["attachments"] = args["attachments"]
        if metadata is not None:
            message["metadata"] = metadata
        message["edited_ts"] = slack_events.ts()
        wire = self._wire(message)
        return {"channel": message["channel"], "ts": message["ts"], "text": message["text"], "message": wire}

    def _post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("channel"):
            raise SlackError("channel_not_found")
        if not args.get("user"):
            raise SlackError("user_not_in_channel")
        blocks = self._blocks(args)
        if not args.get("text") and not blocks and not args.get("attachments"):
            raise SlackError("no_text")
        message_ts = slack_events.ts()
        self._ephemerals.append(
            {
                "channel": args["channel"],
                "user": args["user"],
                "text": args.get("text"),
                "blocks": blocks,
                "thread_ts": args.get("thread_ts"),
                "message_ts": message_ts,
            }
        )
        return {"message_ts": message_ts}

    def _delete(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self._own(args.get("channel"), args.get("ts"))
        message["deleted"] = True
        return {"channel": message["channel"], "ts": message["ts"]}

    # streaming

    def _apply_stream(self, message: dict[str, Any], args: dict[str, Any]) -> None:
        chunks = args.get("chunks")
        if chunks is not None:
            if not isinstance(chunks, list) or not all(
                isinstance(c, dict) and c.get("type") in CHUNK_TYPES for c in chunks
            ):
                raise SlackError("invalid_chunks")
            for chunk in chunks:
                if chunk["type"] == "markdown_text":
                    if not isinstance(chunk.get("text"), str):
                        raise SlackError("invalid_chunks")
                    message["text"] += chunk["text"]
                message["chunks"].append(chunk)
        if args.get("markdown_text"):
            message["text"] += args["markdown_text"]
            message["chunks"].append({"type": "markdown_text", "text": args["markdown_text"]})

    def _streaming(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self._own(args.get("channel"), args.get("ts"))
        if message["stream_state"] != "streaming":
            raise SlackError("message_not_in_streaming_state")
        return message

    def _start_stream(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel")
        if not channel:
            raise SlackError("channel_not_found")
        self._require(args, "thread_ts")
        if not self.streaming_supported:
            raise SlackError(self.streaming_error)
        if self.require_stream_recipients and not channel.startswith("D"):
            if not args.get("recipient_team_id"):
                raise SlackError("missing_recipient_team_id")
            if not args.get("recipient_user_id"):
                raise SlackError("missing_recipient_user_id")
        message = self._new_message(channel, "", None, thread_ts=args["thread_ts"])
        message["stream_state"] = "streaming"
        try:
            self._apply_stream(message, args)
        except SlackError:
            self._messages.remove(message)
            raise
        return {"channel": channel, "ts": message["ts"]}

    def _append_stream(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self._streaming(args)
        self._apply_stream(message, args)
        return {"channel": message["channel"], "ts": message["ts"]}

    def _stop_stream(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self._streaming(args)
        blocks = self._blocks(args)
        self._apply_stream(message, args)
        if blocks is not None:
            message["blocks"] = blocks
        metadata = self._metadata(args)
        if metadata is not None:
            message["metadata"] = metadata
        message["stream_state"] = "stopped"
        return {"channel": message["channel"], "ts": message["ts"], "message": self._wire(message)}

    # assistant threads and views

    def _set_status(self, args: dict[str, Any]) -> dict[str, Any]:
        self._require(args, "channel_id", "thread_ts")
        if "status" not in args:
            raise _missing("status")
        self._statuses.append(
            {
                "channel_id": args["channel_id"],
                "thread_ts": args["thread_ts"],
                "status": args["status"],
                "loading_messages": args.get("loading_messages"),
            }
        )
        return {}

    def _set_title(self, args: dict[str, Any]) -> dict[str, Any]:
        self._require(args, "channel_id", "thread_ts", "title")
        self._titles.append({k: args[k] for k in ("channel_id", "thread_ts", "title")})
        return {}

    def _set_suggested_prompts(self, args: dict[str, Any]) -> dict[str, Any]:
        self._require(args, "channel_id", "prompts")
        prompts = args["prompts"]
        if not isinstance(prompts, list) or not all(
            isinstance(p, dict) and p.get("title") and p.get("message") for p in prompts
        ):
            raise SlackError("invalid_arguments", response_metadata={"messages": ["[ERROR] invalid prompts"]})
        self._prompts.append(
            {
                "channel_id": args["channel_id"],
                "thread_ts": args.get("thread_ts"),
                "title": args.get("title"),
                "prompts": prompts,
            }
        )
        return {}

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        self._require(args, "user_id", "view")
        view = args["view"]
        if not isinstance(view, dict) or view.get("type") != "home":
            raise SlackError(
                "invalid_arguments", response_metadata={"messages": ["[ERROR] view.type must be home"]}
            )
        self._blocks(view)
        user_id = args["user_id"]
        previous = next((v for v in reversed(self._views) if v["user_id"] == user_id), None)
        if args.get("hash") and (previous is None or previous["view"]["hash"] != args["hash"]):
            raise SlackError("hash_conflict")
        self._serial += 1
        view_id = self._view_ids.setdefault(user_id, f"V{self._serial:09d}")
        published = {
            "id": view_id,
            "team_id": self.team_id,
            "type": "home",
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{self._serial:08x}",
            "title": view.get("title", {"type": "plain_text", "text": "View Title", "emoji": True}),
            "clear_on_close": False,
            "notify_on_close": False,
            "close": None,
            "submit": None,
            "previous_view_id": None,
            "root_view_id": view_id,
            "app_id": self.app_id,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        self._views.append({"user_id": user_id, "view": published})
        return {"view": published}

    # reading

    def _conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel")
        if not channel:
            raise SlackError("channel_not_found")
        self._require(args, "ts")
        thread_ts = args["ts"]
        in_thread = [
            m
            for m in self._messages
            if m["channel"] == channel
            and not m["deleted"]
            and (m["ts"] == thread_ts or m["thread_ts"] == thread_ts)
        ]
        if not in_thread:
            raise SlackError("thread_not_found")
        in_thread.sort(key=lambda m: float(m["ts"]))
        include_metadata = _truthy(args.get("include_all_metadata"))
        wires = [self._wire(m, include_metadata=include_metadata) for m in in_thread]
        replies = [m for m in in_thread if m["ts"] != thread_ts]
        for wire in wires:
            if wire["ts"] == thread_ts:
                wire["thread_ts"] = thread_ts
                wire.pop("parent_user_id", None)
                wire["reply_count"] = len(replies)
                wire["reply_users_count"] = len({m["user"] for m in replies})
                wire["reply_users"] = sorted({m["user"] for m in replies})
                if replies:
                    wire["latest_reply"] = replies[-1]["ts"]
        limit = int(args.get("limit") or 1000)
        return {
            "messages": wires[:limit],
            "has_more": len(wires) > limit,
            "response_metadata": {"next_cursor": ""},
        }

    def _conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        """Top-level messages of a channel, newest first, as Slack returns them."""
        channel = args.get("channel")
        if not channel:
            raise SlackError("channel_not_found")
        oldest, latest = float(args.get("oldest") or 0), float(args.get("latest") or "inf")
        top = [
            m
            for m in self._messages
            if m["channel"] == channel
            and not m["deleted"]
            and m["thread_ts"] in (None, m["ts"])
            and oldest <= float(m["ts"]) <= latest
        ]
        top.sort(key=lambda m: float(m["ts"]), reverse=True)
        include_metadata = _truthy(args.get("include_all_metadata"))
        limit = int(args.get("limit") or 100)
        return {
            "messages": [self._wire(m, include_metadata=include_metadata) for m in top[:limit]],
            "has_more": len(top) > limit,
            "response_metadata": {"next_cursor": ""},
        }

    def _synthetic_channel(self, channel_id: str) -> dict[str, Any]:
        if channel_id.startswith("D"):
            return {
                "id": channel_id,
                "created": 1_700_000_000,
                "is_archived": False,
                "is_im": True,
                "is_org_shared": False,
                "context_team_id": self.team_id,
                "updated": 1_700_000_000_000,
                "user": USER_ID,
                "is_user_deleted": False,
                "priority": 0,
            }
        name = channel_id.lower()
        return {
            "id": channel_id,
            "name": name,
            "is_channel": channel_id.startswith("C"),
            "is_group": channel_id.startswith("G"),
            "is_im": False,
            "is_mpim": False,
            "is_private": channel_id.startswith("G"),
            "created": 1_700_000_000,
            "is_archived": False,
            "is_general": False,
            "unlinked": 0,
            "name_normalized": name,
            "is_shared": False,
            "is_org_shared": False,
            "is_pending_ext_shared": False,
            "pending_shared": [],
            "context_team_id": self.team_id,
            "updated": 1_700_000_000_000,
            "parent_conversation": None,
            "creator": USER_ID,
            "is_ext_shared": False,
            "shared_team_ids": [self.team_id],
            "pending_connected_team_ids": [],
            "is_member": True,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
            "previous_names": [],
        }

    def _conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel_id = args.get("channel") or ""
        channel = self._channels.get(channel_id)
        if channel is None:
            if not _CHANNEL_ID.match(channel_id):
                raise SlackError("channel_not_found")
            channel = self._synthetic_channel(channel_id)
        return {"channel": copy.deepcopy(channel)}

    def _synthetic_user(self, user_id: str) -> dict[str, Any]:
        is_bot = user_id == self.bot_user_id
        name = BOT_NAME if is_bot else user_id.lower()
        profile: dict[str, Any] = {
            "real_name": name,
            "display_name": name,
            "real_name_normalized": name,
            "display_name_normalized": name,
            "image_72": f"https://avatars.slack-edge.com/{user_id}_72.png",
            "team": self.team_id,
        }
        if is_bot:
            profile.update({"bot_id": self.bot_id, "api_app_id": self.app_id, "always_active": True})
        else:
            profile["email"] = f"{name}@example.com"
        return {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "deleted": False,
            "color": "9f69e7",
            "real_name": name,
            "tz": "Europe/Berlin",
            "tz_label": "Central European Time",
            "tz_offset": 3600,
            "profile": profile,
            "is_admin": False,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "updated": 1_700_000_000,
            "is_email_confirmed": not is_bot,
            "who_can_share_contact_card": "EVERYONE",
        }

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = args.get("user") or ""
        user = self._users.get(user_id)
        if user is None:
            if not _USER_ID.match(user_id):
                raise SlackError("user_not_found")
            user = self._synthetic_user(user_id)
        return {"user": copy.deepcopy(user)}
