"""`skillmatch serve`: the chat channels' endpoints, health and readiness, and turn delivery in one process.

Runs on aiohttp, which slack-bolt's async adapter and the Microsoft 365 Agents SDK share. Each channel
mounts its own routes; delivery starts after the server listens (readiness never waits for a backlog)
and, on shutdown, finishes or hands back what this replica was answering.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import Protocol

from aiohttp import web
from sqlalchemy import text

from assistant.delivery import Delivery
from assistant.runtime import Runtime

log = logging.getLogger(__name__)
READY_DB_TIMEOUT = 2.0  # seconds /readyz waits for the database (keep the probe's timeout above this)


class WebChannel(Protocol):
    platform: str

    def mount(self, app: web.Application) -> None: ...


DELIVERY_KEY: web.AppKey[Delivery] = web.AppKey("delivery", Delivery)
RUNTIME_KEY: web.AppKey[Runtime] = web.AppKey("runtime", Runtime)


def build_delivery(runtime: Runtime) -> Delivery:
    from assistant.ticket_context import TicketContext, jira_configured

    settings = runtime.settings
    tickets = (
        TicketContext(settings, runtime.sessions, runtime.store, runtime.engine.today)
        if jira_configured(settings)
        else None
    )
    return Delivery(
        settings=settings,
        sessions=runtime.sessions,
        store=runtime.store,
        engine=runtime.engine,
        prepare=tickets.seed if tickets else None,
    )


def build_web_app(runtime: Runtime, delivery: Delivery, channels: list[WebChannel]) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024)  # chat payloads are small; refuse anything huge
    app[DELIVERY_KEY] = delivery
    app[RUNTIME_KEY] = runtime
    for channel in channels:
        channel.mount(app)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz)
    app.on_startup.append(_startup)
    app.on_shutdown.append(_shutdown)
    return app


async def _healthz(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _readyz(request: web.Request) -> web.Response:
    """Ready when the database answers; the search index loads lazily and reloads on corpus changes."""
    runtime = request.app[RUNTIME_KEY]

    def ping() -> None:
        with runtime.db.connect() as connection:
            connection.execute(text("select 1"))

    try:
        await asyncio.wait_for(asyncio.to_thread(ping), timeout=READY_DB_TIMEOUT)
    except Exception as exc:
        return web.json_response({"status": "unavailable", "reason": type(exc).__name__}, status=503)
    delivery = request.app[DELIVERY_KEY]
    return web.json_response(
        {"status": "ready", "in_flight": delivery.in_flight, "running": delivery.running}
    )


async def _startup(app: web.Application) -> None:
    delivery = app[DELIVERY_KEY]
    delivery.start()
    delivery.spawn(_warm_up(app[RUNTIME_KEY]))


async def _warm_up(runtime: Runtime) -> None:
    """Load the index now, so the first question does not pay for it; then freeze what start-up made, so
    the garbage collector's full passes (which would otherwise walk the index, models and SDKs each time)
    only look at what turns create and never stall acknowledgements for long."""
    await asyncio.to_thread(runtime.searcher.index)
    gc.collect()
    gc.freeze()


async def _shutdown(app: web.Application) -> None:
    await app[DELIVERY_KEY].stop()  # traces are flushed by Runtime.close, with a bounded wait


async def run_socket_mode(runtime: Runtime, delivery: Delivery, slack_app: object, app_token: str) -> None:
    from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

    handler = AsyncSocketModeHandler(slack_app, app_token)
    delivery.start()
    try:
        await handler.start_async()
    finally:
        await delivery.stop()  # traces are flushed by Runtime.close, with a bounded wait
