"""`skillmatch serve`: the Slack endpoint over HTTP (or Socket Mode), health and readiness, one process
with the engine. Runs on aiohttp, which slack-bolt's async adapter and the Microsoft 365 Agents SDK share."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from sqlalchemy import text

from assistant.channels.slack import SlackChannel
from assistant.runtime import Runtime

log = logging.getLogger(__name__)
SLACK_KEY: web.AppKey[SlackChannel] = web.AppKey("slack", SlackChannel)
RUNTIME_KEY: web.AppKey[Runtime] = web.AppKey("runtime", Runtime)


def build_web_app(runtime: Runtime, slack: SlackChannel) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024)  # Slack payloads are small; refuse anything huge
    app[SLACK_KEY] = slack
    app[RUNTIME_KEY] = runtime
    app.router.add_post("/slack/events", _slack_events)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz)
    app.on_startup.append(_startup)
    app.on_shutdown.append(_shutdown)
    return app


async def _slack_events(request: web.Request) -> web.Response:
    slack = request.app[SLACK_KEY]
    bolt_response = await slack.app.async_dispatch(await to_bolt_request(request))
    return await to_aiohttp_response(bolt_response)


async def _healthz(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _readyz(request: web.Request) -> web.Response:
    """Ready when the database answers; the search index loads lazily and reloads on corpus changes."""
    runtime = request.app[RUNTIME_KEY]

    def ping() -> None:
        with runtime.db.connect() as connection:
            connection.execute(text("select 1"))

    try:
        await asyncio.wait_for(asyncio.to_thread(ping), timeout=2.0)
    except Exception as exc:
        return web.json_response({"status": "unavailable", "reason": type(exc).__name__}, status=503)
    return web.json_response({"status": "ready", "in_flight": request.app[SLACK_KEY].in_flight})


async def _startup(app: web.Application) -> None:
    slack = app[SLACK_KEY]
    slack.spawn(slack.resume())
    # Warm the index so the first question does not pay for loading it.
    slack.spawn(asyncio.to_thread(app[RUNTIME_KEY].searcher.index))


async def _shutdown(app: web.Application) -> None:
    await app[SLACK_KEY].drain(timeout=25.0)
    app[RUNTIME_KEY].telemetry.flush()


async def run_socket_mode(runtime: Runtime, slack: SlackChannel) -> None:
    from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

    assert runtime.settings.slack_app_token
    handler = AsyncSocketModeHandler(slack.app, runtime.settings.slack_app_token.get_secret_value())
    slack.spawn(slack.resume())
    try:
        await handler.start_async()
    finally:
        await slack.drain(timeout=25.0)
