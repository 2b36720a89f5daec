"""A fake Langfuse server that the real Langfuse 5 SDK talks to, speaking the real wire format.

Endpoints (all under `fake.origin`, Basic auth `public_key:secret_key` except health):

- `POST /api/public/otel/v1/traces`: OTLP/HTTP `ExportTraceServiceRequest`, protobuf (gzip when
  `Content-Encoding: gzip`, the SDK's default) or OTLP JSON. Every span becomes a `ReceivedSpan`.
- `POST /api/public/scores`: a JSON list of scores (what the v5 SDK sends) -> 202 `{"message": "Accepted"}`;
  a single JSON object (older SDKs / raw API) -> 200 `{"id": ...}`. Recorded in `fake.scores`.
- `GET /api/public/v2/prompts/{name}?label=&version=`: prompts seeded with `add_prompt`; 404 otherwise.
- `GET /api/public/v2/observations`: the observations read model, built from the received spans, with the
  filters, field groups (`fields=`) and cursor pagination of the real API.
- `GET /api/public/health`, `GET /api/public/projects` (`Langfuse.auth_check()`, `get_trace_url()`).

Usage:

    from tests.fakes.langfuse_server import FakeLangfuse, isolated_langfuse

    with FakeLangfuse() as fake, isolated_langfuse(fake) as langfuse:
        with langfuse.start_as_current_observation(name="chat") as root:
            with propagate_attributes(session_id="s-1", user_id="u-1"):
                with langfuse.start_as_current_observation(name="llm", as_type="generation", model="gpt-x"):
                    ...
        langfuse.flush()                  # synchronous: spans are in fake.spans when it returns
        gen = fake.span_named("llm")
        assert gen.observation_type == "generation" and gen.session_id == "s-1"
        assert gen.parent_span_id == fake.span_named("chat").span_id

    fake.add_prompt("system", "You are {{role}}.", version=3, labels=["production"])
    fake.fail_next(500, times=None)       # export outage (the SDK logs and drops the batch)
    fake.fail_next(503, times=2, headers={"Retry-After": "0"}, match="/otel/")  # retried at once
    fake.hang_next(10)                    # the next request stalls up to 10 s (client times out first)
    fake.delay = 0.2                      # every request answers 0.2 s late

Reading back (what an audit command sees; only the requested field groups are filled, as in Langfuse):

    page = langfuse.api.observations.get_many(session_id="s-1", type="GENERATION", fields="basic,model,usage")
    page.data[0].usage_details  # {"input": .., "output": .., "total": ..}; input/output are raw strings

`isolated_langfuse` gives each test its own client (fresh public key, own TracerProvider, so the global
OpenTelemetry provider is untouched) and removes it from the SDK's per-public-key cache afterwards.
`@observe` picks its client through that cache: with more than one client alive in the process it only
traces when the outermost call passes `langfuse_public_key=<the key>` (else it logs a warning and does
nothing), so pick the key yourself: `isolated_langfuse(fake, public_key=key)`.

Export faults as the OTLP exporter sees them: 500/4xx fail the batch at once (dropped, logged);
429/502/503/504 and timeouts are retried with back-off (1 s, 2 s, ...; `Retry-After` wins) until the client's
`timeout` (Langfuse default 5 s) runs out. Hangs and delays wait on an Event in the server thread (never in
the test thread); `stop()` releases them and answers 503 without processing.
"""

from __future__ import annotations

import base64
import gzip
import json
import threading
import uuid
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from tests.fakes.http_server import FakeServer, Matcher, RecordedRequest, Reply, _matcher

if TYPE_CHECKING:
    from langfuse import Langfuse

OTLP_TRACES_PATH = "/api/public/otel/v1/traces"
PROJECT_ID = "fake-project"


class Attr:
    """Span attribute keys written by the Langfuse 5 SDK (`langfuse._client.attributes`)."""

    TRACE_NAME = "langfuse.trace.name"
    USER_ID = "user.id"
    SESSION_ID = "session.id"
    TAGS = "langfuse.trace.tags"
    TRACE_PUBLIC = "langfuse.trace.public"
    TRACE_METADATA = "langfuse.trace.metadata"  # + ".<key>", from propagate_attributes(metadata=)
    TYPE = "langfuse.observation.type"  # lower case: span, generation, tool, agent, chain, ...
    METADATA = "langfuse.observation.metadata"  # + ".<key>", each value JSON-encoded
    LEVEL = "langfuse.observation.level"
    STATUS_MESSAGE = "langfuse.observation.status_message"
    INPUT = "langfuse.observation.input"
    OUTPUT = "langfuse.observation.output"
    COMPLETION_START_TIME = "langfuse.observation.completion_start_time"
    MODEL = "langfuse.observation.model.name"
    MODEL_PARAMETERS = "langfuse.observation.model.parameters"
    USAGE = "langfuse.observation.usage_details"
    COST = "langfuse.observation.cost_details"
    PROMPT_NAME = "langfuse.observation.prompt.name"
    PROMPT_VERSION = "langfuse.observation.prompt.version"
    ENVIRONMENT = "langfuse.environment"
    RELEASE = "langfuse.release"
    VERSION = "langfuse.version"
    IS_APP_ROOT = "langfuse.internal.is_app_root"


def _json_or_raw(value: Any) -> Any:
    """The SDK JSON-encodes non-string values and sends strings as they are; undo what can be undone."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _prefixed(attributes: dict[str, Any], prefix: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if prefix in attributes:  # non-dict metadata is sent under the bare key
        result["metadata"] = _json_or_raw(attributes[prefix])
    for key, value in attributes.items():
        if key.startswith(prefix + "."):
            result[key[len(prefix) + 1 :]] = _json_or_raw(value)
    return result


@dataclass(frozen=True)
class ReceivedSpan:
    trace_id: str  # 32 hex
    span_id: str  # 16 hex
    parent_span_id: str | None
    name: str
    start_ns: int
    end_ns: int
    attributes: dict[str, Any]  # OTLP AnyValue decoded: str/int/float/bool/bytes/list/dict
    status_code: int  # 0 unset, 1 ok, 2 error
    resource_attributes: dict[str, Any]
    status_description: str = ""
    scope_name: str = ""
    public_key: str | None = None  # from the export request's Basic auth
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    # -- Langfuse views (None when the SDK did not set the attribute) --

    @property
    def observation_type(self) -> str | None:
        return self.attributes.get(Attr.TYPE)

    @property
    def session_id(self) -> str | None:
        return self.attributes.get(Attr.SESSION_ID)

    @property
    def user_id(self) -> str | None:
        return self.attributes.get(Attr.USER_ID)

    @property
    def input(self) -> Any:
        return _json_or_raw(self.attributes.get(Attr.INPUT))

    @property
    def output(self) -> Any:
        return _json_or_raw(self.attributes.get(Attr.OUTPUT))

    @property
    def metadata(self) -> dict[str, Any]:
        """Observation metadata, values JSON-decoded (non-dict metadata appears under "metadata")."""
        return _prefixed(self.attributes, Attr.METADATA)

    @property
    def trace_metadata(self) -> dict[str, Any]:
        """Metadata from `propagate_attributes(metadata=...)`, values JSON-decoded."""
        return _prefixed(self.attributes, Attr.TRACE_METADATA)

    @property
    def model(self) -> str | None:
        return self.attributes.get(Attr.MODEL)

    @property
    def model_parameters(self) -> dict[str, Any] | None:
        return _json_or_raw(self.attributes.get(Attr.MODEL_PARAMETERS))

    @property
    def usage(self) -> dict[str, Any] | None:
        return _json_or_raw(self.attributes.get(Attr.USAGE))

    @property
    def cost(self) -> dict[str, Any] | None:
        return _json_or_raw(self.attributes.get(Attr.COST))

    @property
    def prompt_name(self) -> str | None:
        return self.attributes.get(Attr.PROMPT_NAME)

    @property
    def prompt_version(self) -> int | None:
        return self.attributes.get(Attr.PROMPT_VERSION)

    @property
    def level(self) -> str:
        """As Langfuse derives it: the level attribute, else ERROR for an error status, else DEFAULT."""
        return self.attributes.get(Attr.LEVEL) or ("ERROR" if self.status_code == 2 else "DEFAULT")

    @property
    def status_message(self) -> str | None:
        return self.attributes.get(Attr.STATUS_MESSAGE) or self.status_description or None

    @property
    def tags(self) -> list[str]:
        return list(self.attributes.get(Attr.TAGS) or [])

    @property
    def trace_name(self) -> str | None:
        return self.attributes.get(Attr.TRACE_NAME)

    @property
    def environment(self) -> str:
        return (
            self.attributes.get(Attr.ENVIRONMENT)
            or self.resource_attributes.get(Attr.ENVIRONMENT)
            or "default"
        )

    @property
    def is_root(self) -> bool:
        return self.parent_span_id is None or bool(self.attributes.get(Attr.IS_APP_ROOT))

    @property
    def duration_ms(self) -> float:
        return (self.end_ns - self.start_ns) / 1e6


# -- OTLP decoding --


def any_value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return key_values(value.kvlist_value.values)
    return getattr(value, kind)  # string_value, bool_value, int_value, double_value, bytes_value


def key_values(items: Any) -> dict[str, Any]:
    return {item.key: any_value(item.value) for item in items}


def decode_export_request(
    request: ExportTraceServiceRequest, public_key: str | None = None
) -> list[ReceivedSpan]:
    spans = []
    for resource_spans in request.resource_spans:
        resource = key_values(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(
                    ReceivedSpan(
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_span_id=span.parent_span_id.hex() or None,
                        name=span.name,
                        start_ns=span.start_time_unix_nano,
                        end_ns=span.end_time_unix_nano,
                        attributes=key_values(span.attributes),
                        status_code=span.status.code,
                        resource_attributes=resource,
                        status_description=span.status.message,
                        scope_name=scope_spans.scope.name,
                        public_key=public_key,
                    )
                )
    return spans


def _otlp_json_ids_to_base64(value: Any) -> Any:
    """OTLP/JSON carries ids as hex; protobuf's JSON mapping expects base64 for bytes fields."""
    if isinstance(value, dict):
        return {
            k: (
                base64.b64encode(bytes.fromhex(v)).decode()
                if k in ("traceId", "spanId", "parentSpanId") and isinstance(v, str)
                else _otlp_json_ids_to_base64(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_otlp_json_ids_to_base64(v) for v in value]
    return value


# -- the read model --


def _iso(ns_or_dt: int | datetime | None) -> str | None:
    if ns_or_dt is None:
        return None
    moment = ns_or_dt if isinstance(ns_or_dt, datetime) else datetime.fromtimestamp(ns_or_dt / 1e9, tz=UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _parse_time(text: str) -> int:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1_000_000) * 1000


def _flat_usage(raw: dict[str, Any], prefix: str = "") -> dict[str, int]:
    """Langfuse stores usage as a flat map of integers: nested OpenAI details become prefixed keys."""
    flat: dict[str, int] = {}
    for key, value in raw.items():
        if isinstance(value, dict):
            flat |= _flat_usage(value, f"{prefix}{key}.")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            flat[f"{prefix}{key}"] = int(value)
    return flat


def _int_if_integral(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _map_string(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


FIELD_GROUPS = (
    "core",
    "basic",
    "time",
    "io",
    "metadata",
    "model",
    "usage",
    "prompt",
    "metrics",
    "trace_context",
)


def observation_json(
    span: ReceivedSpan, groups: set[str], expand_metadata: set[str] | None = None
) -> dict[str, Any]:
    """One `ObservationV2` as `GET /api/public/v2/observations` returns it, limited to `groups`."""
    attrs = span.attributes
    result: dict[str, Any] = {
        "id": span.span_id,
        "traceId": span.trace_id,
        "startTime": _iso(span.start_ns),
        "endTime": _iso(span.end_ns) if span.end_ns else None,
        "projectId": PROJECT_ID,
        "parentObservationId": span.parent_span_id,
        "type": (span.observation_type or "span").upper(),
    }
    if "basic" in groups:
        result |= {
            "name": span.name,
            "level": span.level,
            "statusMessage": span.status_message,
            "version": attrs.get(Attr.VERSION),
            "environment": span.environment,
            "bookmarked": False,
            "public": bool(attrs.get(Attr.TRACE_PUBLIC)),
            "userId": span.user_id,
            "sessionId": span.session_id,
            "isRootObservation": span.is_root,
        }
    if "time" in groups:
        completion = _json_or_raw(attrs.get(Attr.COMPLETION_START_TIME))
        result |= {
            "completionStartTime": completion,
            "createdAt": _iso(span.received_at),
            "updatedAt": _iso(span.received_at),
        }
    if "io" in groups:  # the v2 API returns input/output as the raw strings it stored
        result |= {"input": attrs.get(Attr.INPUT), "output": attrs.get(Attr.OUTPUT)}
    if "metadata" in groups:
        metadata = {k: _map_string(v) for k, v in (span.trace_metadata | span.metadata).items()}
        expand = expand_metadata or set()
        result["metadata"] = {k: (v if k in expand else v[:200]) for k, v in metadata.items()}
    if "model" in groups:
        result |= {
            "model": span.model,
            "internalModelId": None,
            "modelParameters": span.model_parameters,
            "modelId": None,
            "inputPrice": None,
            "outputPrice": None,
            "totalPrice": None,
        }
    if "usage" in groups:
        usage = _flat_usage(span.usage or {})
        if usage and "total" not in usage:
            usage["total"] = sum(v for v in usage.values() if isinstance(v, int))
        cost = dict(span.cost or {})
        total_cost = cost.get("total", sum(cost.values()) if cost else None)
        result |= {
            "usageDetails": usage,
            "costDetails": cost,
            "totalCost": total_cost,
            "usagePricingTierName": None,
        }
    if "prompt" in groups:
        result |= {"promptId": None, "promptName": span.prompt_name, "promptVersion": span.prompt_version}
    if "metrics" in groups:
        latency = (span.end_ns - span.start_ns) / 1e9 if span.end_ns else None
        result |= {"latency": latency, "timeToFirstToken": None}
    if "trace_context" in groups:
        result |= {
            "tags": span.tags,
            "release": attrs.get(Attr.RELEASE) or span.resource_attributes.get(Attr.RELEASE),
            "traceName": span.trace_name,
        }
    return result


_FILTER_COLUMNS: dict[str, Callable[[ReceivedSpan], Any]] = {
    "id": lambda s: s.span_id,
    "type": lambda s: (s.observation_type or "span").upper(),
    "name": lambda s: s.name,
    "traceId": lambda s: s.trace_id,
    "environment": lambda s: s.environment,
    "level": lambda s: s.level,
    "statusMessage": lambda s: s.status_message,
    "version": lambda s: s.attributes.get(Attr.VERSION),
    "userId": lambda s: s.user_id,
    "sessionId": lambda s: s.session_id,
    "traceName": lambda s: s.trace_name,
    "model": lambda s: s.model,
    "providedModelName": lambda s: s.model,
    "promptName": lambda s: s.prompt_name,
    "promptVersion": lambda s: s.prompt_version,
    "startTime": lambda s: s.start_ns,
    "endTime": lambda s: s.end_ns,
    "isRootObservation": lambda s: s.is_root,
    "parentObservationId": lambda s: s.parent_span_id,
}


class _BadRequest(Exception):
    pass


def _structured_filter(raw: str) -> Callable[[ReceivedSpan], bool]:
    """The subset of the `filter=` JSON the fake understands; anything else is a 400, not a silent pass."""
    try:
        conditions = json.loads(raw)
    except ValueError as error:
        raise _BadRequest(f"filter is not JSON: {error}") from error
    checks: list[Callable[[ReceivedSpan], bool]] = []
    for condition in conditions:
        column, operator, value = condition.get("column"), condition.get("operator"), condition.get("value")
        getter = _FILTER_COLUMNS.get(column)
        if getter is None:
            raise _BadRequest(f"fake does not support filter column {column!r}")
        if condition.get("type") == "datetime":
            value = _parse_time(value)
        ops: dict[str, Callable[[Any], bool]] = {
            "=": lambda actual, v=value: actual == v,
            "<>": lambda actual, v=value: actual != v,
            ">": lambda actual, v=value: actual is not None and actual > v,
            "<": lambda actual, v=value: actual is not None and actual < v,
            ">=": lambda actual, v=value: actual is not None and actual >= v,
            "<=": lambda actual, v=value: actual is not None and actual <= v,
            "any of": lambda actual, v=value: actual in v,
            "none of": lambda actual, v=value: actual not in v,
            "contains": lambda actual, v=value: actual is not None and v in actual,
            "is null": lambda actual: actual is None,
            "is not null": lambda actual: actual is not None,
        }
        if operator not in ops:
            raise _BadRequest(f"fake does not support filter operator {operator!r}")
        op = ops[operator]
        checks.append(lambda span, getter=getter, op=op: op(getter(span)))
    return lambda span: all(check(span) for check in checks)


# -- the server --


@dataclass
class _Hang:
    seconds: float
    times: int | None
    match: Callable[[RecordedRequest], bool]
    status: int | None


class FakeLangfuse(FakeServer):
    """`keys`: accepted {public_key: secret_key}; None accepts any non-empty Basic credentials."""

    def __init__(self, *, keys: dict[str, str] | None = None, version: str = "3.120.0") -> None:
        super().__init__()
        self.keys = keys
        self.version = version
        self.delay = 0.0  # seconds every request waits before it is answered
        self.scores: list[dict[str, Any]] = []
        self._spans: list[ReceivedSpan] = []
        self._spans_changed = threading.Condition()
        self._prompts: list[dict[str, Any]] = []
        self._hangs: list[_Hang] = []
        self._release = threading.Event()
        self._stopping = False

    # -- lifecycle --

    def stop(self) -> None:
        self._stopping = True
        self._release.set()  # hung requests return at once (503, unprocessed) instead of holding threads
        super().stop()

    def start(self) -> FakeLangfuse:
        self._stopping = False
        self._release.clear()
        super().start()
        assert self._server is not None
        # A client that gave up on a hung request has closed its socket; the late reply then fails.
        self._server.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
        return self

    # -- what tests use --

    @property
    def spans(self) -> list[ReceivedSpan]:
        with self._spans_changed:
            return list(self._spans)

    def spans_named(self, name: str) -> list[ReceivedSpan]:
        return [s for s in self.spans if s.name == name]

    def span_named(self, name: str) -> ReceivedSpan:
        """The one span called `name` (AssertionError listing what arrived otherwise)."""
        found = self.spans_named(name)
        assert len(found) == 1, f"expected one span {name!r}, got {len(found)}; have {self.span_names()}"
        return found[0]

    def span_names(self) -> list[str]:
        return [s.name for s in self.spans]

    def spans_of_type(self, observation_type: str) -> list[ReceivedSpan]:
        return [s for s in self.spans if (s.observation_type or "").lower() == observation_type.lower()]

    def traces(self) -> dict[str, list[ReceivedSpan]]:
        result: dict[str, list[ReceivedSpan]] = {}
        for span in sorted(self.spans, key=lambda s: s.start_ns):
            result.setdefault(span.trace_id, []).append(span)
        return result

    def wait_for_spans(self, count: int, timeout: float = 5.0) -> list[ReceivedSpan]:
        """For code that exports in the background without flush(); returns the spans or raises."""
        with self._spans_changed:
            if not self._spans_changed.wait_for(lambda: len(self._spans) >= count, timeout):
                raise AssertionError(f"expected {count} spans within {timeout}s, got {len(self._spans)}")
            return list(self._spans)

    def scores_named(self, name: str) -> list[dict[str, Any]]:
        with self._lock:
            return [s for s in self.scores if s.get("name") == name]

    def export_requests(self) -> list[RecordedRequest]:
        return self.requests_to(OTLP_TRACES_PATH, "POST")

    def clear(self) -> None:
        """Forget spans, scores and requests (prompts, faults and hangs stay)."""
        with self._spans_changed:
            self._spans.clear()
        with self._lock:
            self.scores.clear()
        self.clear_requests()

    def add_prompt(
        self,
        name: str,
        prompt: str | list[dict[str, Any]],
        *,
        version: int = 1,
        labels: list[str] | None = None,
        config: dict[str, Any] | None = None,
        tags: list[str] | None = None,
        commit_message: str | None = None,
    ) -> dict[str, Any]:
        """Seed a prompt version; a list of `{"role", "content"}` messages makes a chat prompt.

        As in Langfuse, a label lives on one version only (adding it here moves it), and "latest"
        always resolves to the highest version."""
        labels = list(["production"] if labels is None else labels)
        now = _iso(datetime.now(UTC))
        entry = {
            "id": str(uuid.uuid4()),
            "name": name,
            "version": version,
            "type": "chat" if isinstance(prompt, list) else "text",
            "prompt": prompt,
            "config": config or {},
            "labels": labels,
            "tags": list(tags or []),
            "commitMessage": commit_message,
            "resolutionGraph": None,
            "projectId": PROJECT_ID,
            "createdBy": "API",
            "createdAt": now,
            "updatedAt": now,
        }
        with self._lock:
            self._prompts = [p for p in self._prompts if not (p["name"] == name and p["version"] == version)]
            for other in self._prompts:
                if other["name"] == name:
                    other["labels"] = [label for label in other["labels"] if label not in labels]
            self._prompts.append(entry)
        return entry

    def hang_next(
        self, seconds: float, times: int | None = 1, *, match: Matcher = None, status: int | None = None
    ) -> None:
        """Stall matching requests (recorded, faults applied first) for up to `seconds` in the server
        thread, then answer normally, or with `status` if given. `stop()`/`release()` end stalls early."""
        with self._lock:
            self._hangs.append(_Hang(seconds, times, _matcher(match), status))

    def release(self) -> None:
        """Let every stalled request continue now (later hangs wait again after `clear_hangs()`)."""
        self._release.set()

    def clear_hangs(self) -> None:
        with self._lock:
            self._hangs.clear()
        self._release.clear()

    # -- routing --

    def error_body(self, status: int) -> bytes:
        names = {400: "InvalidRequestError", 401: "UnauthorizedError", 403: "ForbiddenError"}
        names |= {404: "LangfuseNotFoundError", 405: "MethodNotAllowedError", 429: "TooManyRequests"}
        error = names.get(status, "InternalServerError" if status >= 500 else f"Error{status}")
        return json.dumps({"message": "injected fault", "error": error}).encode()

    @staticmethod
    def _error(status: int, error: str, message: str) -> Reply:
        return Reply.json({"message": message, "error": error}, status=status)

    def route(self, request: RecordedRequest) -> Reply:
        hang = self._take_hang(request)
        wait = max(self.delay, hang.seconds if hang else 0.0)
        if wait > 0:
            self._release.wait(wait)
        status = 503 if self._stopping else hang.status if hang is not None else None
        if status is not None:
            return Reply(status, self.error_body(status), {"Content-Type": "application/json"})

        path = request.path.rstrip("/")
        if path == "/api/public/health":
            return Reply.json({"status": "OK", "version": self.version})
        public_key = self._authenticate(request)
        if public_key is None:
            return self._error(
                401,
                "UnauthorizedError",
                "Invalid credentials. Confirm that you've configured the correct host.",
            )
        try:
            if path == OTLP_TRACES_PATH and request.method == "POST":
                return self._export(request, public_key)
            if path == "/api/public/scores" and request.method == "POST":
                return self._create_scores(request)
            if path.startswith("/api/public/v2/prompts/") and request.method == "GET":
                return self._get_prompt(request, unquote(path[len("/api/public/v2/prompts/") :]))
            if path == "/api/public/v2/observations" and request.method == "GET":
                return self._observations(request)
            if path == "/api/public/projects" and request.method == "GET":
                return Reply.json(
                    {
                        "data": [
                            {
                                "id": PROJECT_ID,
                                "name": "Fake project",
                                "organization": {"id": "fake-org", "name": "Fake org"},
                                "metadata": {},
                            }
                        ]
                    }
                )
        except _BadRequest as error:
            return self._error(400, "InvalidRequestError", str(error))
        return self._error(404, "LangfuseNotFoundError", f"No route for {request.method} {request.path}")

    def _take_hang(self, request: RecordedRequest) -> _Hang | None:
        with self._lock:
            for hang in self._hangs:
                if not hang.match(request):
                    continue
                if hang.times is not None:
                    hang.times -= 1
                    if hang.times <= 0:
                        self._hangs.remove(hang)
                return hang
        return None

    def _authenticate(self, request: RecordedRequest) -> str | None:
        header = request.header("authorization") or ""
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            public_key, _, secret_key = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            return None
        if not public_key or not secret_key:
            return None
        if self.keys is not None and self.keys.get(public_key) != secret_key:
            return None
        return public_key

    def _export(self, request: RecordedRequest, public_key: str) -> Reply:
        body = request.body
        encoding = (request.header("content-encoding") or "").lower()
        try:
            if encoding == "gzip":
                body = gzip.decompress(body)
            elif encoding == "deflate":
                body = zlib.decompress(body)
            elif encoding not in ("", "identity"):
                raise _BadRequest(f"unsupported Content-Encoding {encoding}")
        except (OSError, zlib.error) as error:
            raise _BadRequest(f"body does not match Content-Encoding {encoding}: {error}") from error

        is_json = (request.header("content-type") or "").startswith("application/json")
        message = ExportTraceServiceRequest()
        try:
            if is_json:
                json_format.ParseDict(_otlp_json_ids_to_base64(json.loads(body)), message)
            else:
                message.ParseFromString(body)
        except (DecodeError, ValueError, json_format.ParseError) as error:
            raise _BadRequest(f"not an ExportTraceServiceRequest: {error}") from error

        received = decode_export_request(message, public_key)
        with self._spans_changed:
            self._spans.extend(received)
            self._spans_changed.notify_all()

        response = ExportTraceServiceResponse()
        if is_json:
            return Reply(
                200, json_format.MessageToJson(response).encode(), {"Content-Type": "application/json"}
            )
        return Reply(200, response.SerializeToString(), {"Content-Type": "application/x-protobuf"})

    def _create_scores(self, request: RecordedRequest) -> Reply:
        try:
            body = request.json()
        except ValueError as error:
            raise _BadRequest(f"body is not JSON: {error}") from error
        batch = body if isinstance(body, list) else [body]
        for score in batch:
            if not isinstance(score, dict) or "name" not in score or "value" not in score:
                raise _BadRequest(f"score needs name and value: {score!r}")
        stored = [{"id": score.get("id") or str(uuid.uuid4()), **score} for score in batch]
        with self._lock:
            self.scores.extend(stored)
        if isinstance(body, list):
            return Reply.json({"message": "Accepted"}, status=202)
        return Reply.json({"id": stored[0]["id"]})

    def _get_prompt(self, request: RecordedRequest, name: str) -> Reply:
        label, version = request.param("label"), request.param("version")
        if label and version:
            raise _BadRequest("Cannot specify both version and label")
        with self._lock:
            versions = [p for p in self._prompts if p["name"] == name]
        if version:
            found = [p for p in versions if p["version"] == int(version)]
            what = f"version {version}"
        elif label == "latest":
            found = sorted(versions, key=lambda p: p["version"])[-1:]
            what = "label 'latest'"
        else:
            wanted = label or "production"
            found = [p for p in versions if wanted in p["labels"]]
            what = f"label '{wanted}'"
        if not found:
            return self._error(404, "LangfuseNotFoundError", f"Prompt not found: '{name}' with {what}")
        prompt = dict(found[0])
        if label == "latest" and "latest" not in prompt["labels"]:
            prompt["labels"] = [*prompt["labels"], "latest"]
        return Reply.json(prompt)

    def _observations(self, request: RecordedRequest) -> Reply:
        param = request.param
        if (param("parseIoAsJson") or "").lower() == "true":
            raise _BadRequest("parseIoAsJson is no longer supported; input/output are raw strings")
        groups = {"core", *(g.strip() for g in (param("fields") or "core,basic").split(",") if g.strip())}
        unknown = groups - set(FIELD_GROUPS)
        if unknown:
            raise _BadRequest(f"unknown field groups {sorted(unknown)}; use {', '.join(FIELD_GROUPS)}")
        limit = int(param("limit") or 50)
        if not 1 <= limit <= 1000:
            raise _BadRequest("limit must be between 1 and 1000")
        cursor = param("cursor")
        try:
            offset = int(json.loads(base64.b64decode(cursor))["offset"]) if cursor else 0
        except (ValueError, KeyError, TypeError) as error:
            raise _BadRequest(f"invalid cursor: {error}") from error

        latest: dict[str, ReceivedSpan] = {}  # a re-exported span replaces the earlier copy, as on upsert
        for span in self.spans:
            latest[span.span_id] = span
        spans = list(latest.values())
        if param("filter"):
            spans = [s for s in spans if _structured_filter(param("filter") or "[]")(s)]
        else:
            spans = [s for s in spans if self._matches_params(s, request)]
        spans.sort(key=lambda s: (-s.start_ns, s.span_id))

        page = spans[offset : offset + limit]
        meta: dict[str, Any] = {}
        if offset + limit < len(spans):
            meta["cursor"] = base64.b64encode(json.dumps({"offset": offset + limit}).encode()).decode()
        expand = {k.strip() for k in (param("expandMetadata") or "").split(",") if k.strip()}
        return Reply.json({"data": [observation_json(s, groups, expand) for s in page], "meta": meta})

    @staticmethod
    def _matches_params(span: ReceivedSpan, request: RecordedRequest) -> bool:
        param = request.param
        equal = {
            "name": span.name,
            "userId": span.user_id,
            "sessionId": span.session_id,
            "type": (span.observation_type or "span").upper(),
            "traceId": span.trace_id,
            "level": span.level,
            "version": span.attributes.get(Attr.VERSION),
        }
        for key, actual in equal.items():
            wanted = param(key)
            if wanted is not None and wanted != actual:
                return False
        parent = param("parentObservationId")
        if parent is not None and (span.parent_span_id or "") != parent:
            return False
        is_root = param("isRootObservation")
        if is_root is not None and span.is_root != (is_root.lower() == "true"):
            return False
        environments = request.query.get("environment")
        if environments and span.environment not in environments:
            return False
        if param("fromStartTime") and span.start_ns < _parse_time(param("fromStartTime") or ""):
            return False
        return not (param("toStartTime") and span.start_ns >= _parse_time(param("toStartTime") or ""))


def forget_langfuse(public_key: str | None) -> None:
    """Drop a client the code under test built itself from the SDK's per-public-key cache (as
    `isolated_langfuse` does for the clients it builds), so a later test with the key starts afresh."""
    from langfuse._client.resource_manager import LangfuseResourceManager

    if public_key:
        with LangfuseResourceManager._lock:
            LangfuseResourceManager._instances.pop(public_key, None)


@contextmanager
def isolated_langfuse(
    fake: FakeLangfuse,
    *,
    public_key: str | None = None,
    secret_key: str = "sk-lf-test",
    **kwargs: Any,
) -> Iterator[Langfuse]:
    """A real `Langfuse` client for one test, pointed at `fake`, cleaned out of the SDK's caches afterwards.

    The SDK keeps one resource manager per public key for the whole process (first configuration wins),
    so each call uses a fresh key; a private TracerProvider keeps the global OpenTelemetry provider
    untouched. Extra keyword arguments go to `Langfuse(...)` (e.g. `timeout=1`, `mask=...`)."""
    from langfuse import Langfuse
    from opentelemetry.sdk.trace import TracerProvider

    public_key = public_key or f"pk-lf-test-{uuid.uuid4().hex[:12]}"
    provider = kwargs.pop("tracer_provider", None) or TracerProvider()
    client = Langfuse(
        public_key=public_key, secret_key=secret_key, base_url=fake.origin, tracer_provider=provider, **kwargs
    )
    try:
        yield client
    finally:
        with suppress(Exception):
            client.shutdown()
        with suppress(Exception):
            provider.shutdown()
        forget_langfuse(public_key)
