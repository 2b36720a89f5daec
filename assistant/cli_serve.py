"""`skillmatch serve`: the chat channels enabled by configuration, over HTTP (or Slack Socket Mode)."""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from assistant.config import AssistantSettings
from skillmatch.cli import app
from skillmatch.cli.common import DatabaseUrlOption, fail, resolve_settings

if TYPE_CHECKING:
    from assistant.delivery import Delivery
    from assistant.runtime import Runtime
    from assistant.server import WebChannel


def _check_slack(settings: AssistantSettings, socket: bool) -> None:
    if not settings.slack_bot_token:
        raise fail("SLACK_BOT_TOKEN is not set (see README, Slack)")
    if socket and not settings.slack_app_token:
        raise fail("--socket needs SLACK_APP_TOKEN (an app-level token with connections:write)")
    if not socket and not settings.slack_signing_secret:
        raise fail("SLACK_SIGNING_SECRET is not set: Slack requests could not be verified")


@app.command("serve")
def serve(
    ctx: typer.Context,
    socket: Annotated[
        bool, typer.Option("--socket", help="Slack Socket Mode (needs SLACK_APP_TOKEN): no public URL.")
    ] = False,
    host: Annotated[str | None, typer.Option(help="Listen address (default SKILLMATCH_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port (default SKILLMATCH_PORT).")] = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Run the chat app: Slack (/slack/events) and/or Teams (/api/messages), /healthz, /readyz, delivery.

    Each channel runs when it is configured: Slack with SLACK_BOT_TOKEN, Teams with
    CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID.
    """
    from aiohttp import web

    from assistant.masking import install_log_masking
    from assistant.runtime import build_runtime
    from assistant.server import build_delivery, build_web_app, run_socket_mode

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_masking()  # e-mail addresses and phone numbers never reach the server's log
    # The event loop hands every database call to a thread and waits for the result: with the default
    # 5 ms GIL switch interval, each hand-back can wait that long behind a busy thread (acks queue up).
    sys.setswitchinterval(0.001)
    settings = resolve_settings(ctx, database_url, AssistantSettings)
    if not settings.slack_enabled and not settings.teams_enabled:
        raise fail(
            "no chat channel is configured: set SLACK_BOT_TOKEN (Slack) or "
            "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID (Teams); see README"
        )
    if settings.slack_enabled or socket:
        _check_slack(settings, socket)
    runtime = build_runtime(settings)
    try:
        delivery = build_delivery(runtime)
        channels = _channels(settings, runtime, delivery)
        if socket:
            assert settings.slack_app_token
            slack = next(c for c in channels if c.platform == "slack")
            token = settings.slack_app_token.get_secret_value()
            asyncio.run(run_socket_mode(runtime, delivery, slack.app, token))  # type: ignore[attr-defined]
        else:
            web.run_app(
                build_web_app(runtime, delivery, channels),
                host=host or settings.host,
                port=port or settings.port,
                access_log=None,  # request lines would carry chat ids, never tokens, but add nothing here
                shutdown_timeout=settings.shutdown_grace_seconds + 5,
            )
    finally:
        runtime.close()


def _channels(settings: AssistantSettings, runtime: Runtime, delivery: Delivery) -> list[WebChannel]:
    channels: list[WebChannel] = []
    if settings.slack_enabled:
        from assistant.channels.slack import SlackChannel

        channels.append(SlackChannel(settings, delivery, engine=runtime.engine, store=runtime.store))
    if settings.teams_enabled:
        from assistant.channels.teams import TeamsChannel

        channels.append(TeamsChannel(settings, delivery, engine=runtime.engine, store=runtime.store))
    return channels
