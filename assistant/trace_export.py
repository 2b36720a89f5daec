"""The Langfuse client as the assistant builds it: its own tracer provider, an exporter that masks every
string a span carries, and a shutdown that never holds the process up for long.

Why not `Langfuse(...)` with defaults: (1) the SDK's `mask=` covers inputs, outputs and metadata only; status
messages (error texts, which the langfuse.openai wrapper copies from the provider's error), span names and
the session/user/tags of `propagate_attributes` go out as they are. `MaskingSpanExporter` masks them all at
the last moment, whatever created the span. (2) With Langfuse down or hanging, flushing at exit waits for
the OTLP client's timeout and retries; the tracer provider's own exit hook would wait again. Here the
provider has no exit hook, and `shutdown_bounded` gives the export `timeout` seconds, then abandons it: the
exporter drops what is left without sending, and the export thread (a daemon) cannot hold up the exit.
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Sequence
from contextlib import suppress
from typing import Literal

from langfuse import Langfuse
from langfuse._version import __version__ as langfuse_version
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import Status

from assistant.masking import langfuse_mask, mask_attribute, mask_text

log = logging.getLogger(__name__)
ExportState = Literal["sent", "late", "failed"]
OTLP_TRACES_PATH = "/api/public/otel/v1/traces"


class MaskingSpanExporter(SpanExporter):
    """Masks e-mail addresses and phone numbers in attribute values, the span name, the status description
    and events before handing spans to `inner`. After `abandon()` it sends nothing more."""

    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner
        self.abandoned = False
        self.failed_batches = 0  # refused, timed out or dropped: traces Langfuse never got

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        result = SpanExportResult.FAILURE
        try:
            if not self.abandoned:
                result = self.inner.export([mask_span(span) for span in spans])
        finally:
            if result is not SpanExportResult.SUCCESS:
                self.failed_batches += 1
        return result

    def abandon(self) -> None:
        self.abandoned = True
        with suppress(Exception):  # also interrupts the OTLP client's retry back-off
            self.inner.shutdown()

    def shutdown(self) -> None:
        if not self.abandoned:
            self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


def mask_span(span: ReadableSpan) -> ReadableSpan:
    status = span.status
    if status.description:
        status = Status(status.status_code, mask_text(status.description))
    return ReadableSpan(
        name=mask_text(span.name),
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes={key: mask_attribute(value) for key, value in (span.attributes or {}).items()},
        events=[
            Event(
                mask_text(event.name),
                {key: mask_attribute(value) for key, value in (event.attributes or {}).items()},
                event.timestamp,
            )
            for event in span.events
        ],
        links=span.links,
        kind=span.kind,
        status=status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def build_langfuse(
    *,
    public_key: str,
    secret_key: str,
    base_url: str,
    export_timeout: float = 5.0,
    tracer_provider: TracerProvider | None = None,
) -> tuple[Langfuse, MaskingSpanExporter]:
    """A Langfuse client exporting through a MaskingSpanExporter (returned too, for `shutdown_bounded`)."""
    auth = base64.b64encode(f"{public_key}:{secret_key}".encode()).decode("ascii")
    otlp = OTLPSpanExporter(
        endpoint=f"{base_url.rstrip('/')}{OTLP_TRACES_PATH}",
        headers={  # what the SDK's own exporter sends
            "Authorization": f"Basic {auth}",
            "x-langfuse-sdk-name": "python",
            "x-langfuse-sdk-version": langfuse_version,
            "x-langfuse-public-key": public_key,
            "x-langfuse-ingestion-version": "4",
        },
        timeout=export_timeout,
        compression=Compression.Gzip,
    )
    exporter = MaskingSpanExporter(otlp)
    client = Langfuse(
        public_key=public_key,
        secret_key=secret_key,
        base_url=base_url,
        mask=langfuse_mask,
        span_exporter=exporter,
        # Not the global provider, and no exit hook: the exit is ours to bound (see the module docstring).
        tracer_provider=tracer_provider or TracerProvider(shutdown_on_exit=False),
        timeout=max(1, round(export_timeout)),
    )
    return client, exporter


def shutdown_bounded(client: Langfuse, exporter: MaskingSpanExporter | None, timeout: float) -> ExportState:
    """Flush and shut the client down within `timeout` seconds. "late": it took longer (what was left is
    dropped); "failed": a batch of this process did not reach Langfuse (refused, unreachable)."""
    done = threading.Event()

    def shutdown() -> None:
        try:
            client.shutdown()
        except Exception:  # an outage at exit must not turn a good run into a crash
            log.warning("langfuse: shutdown failed", exc_info=True)
        finally:
            done.set()

    threading.Thread(target=shutdown, name="langfuse-shutdown", daemon=True).start()
    if not done.wait(timeout):
        if exporter is not None:
            exporter.abandon()
        return "late"
    return "failed" if exporter is not None and exporter.failed_batches else "sent"
