"""`skillmatch teams-package`: the Teams app package (manifest + icons, zipped) to upload to Teams.

Importing this module registers the command on the `skillmatch` app. The bot id defaults to the bot's
Entra application id, `CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID` (environment or `.env`),
the same setting `skillmatch serve` authenticates with; the Teams app id defaults to the bot id (one
id for both is the usual setup for a single-bot app). Exit codes: 0 written, 2 bad options or template
(nothing written), 1 the output could not be written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from skillmatch.cli import app
from skillmatch.cli.common import console, fail

USAGE_ERROR = 2
DEFAULT_OUTPUT = "skillmatch-teams.zip"
CLIENT_ID_SETTING = "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID"


class _BotIdentity(BaseSettings):
    """The one setting this command reads, with the project's `.env` handling."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")
    client_id: str | None = Field(default=None, alias=CLIENT_ID_SETTING)


def default_source() -> Path:
    """The repository's `teams/` folder (next to the `assistant` package in a checkout), else ./teams."""
    beside_package = Path(__file__).resolve().parents[1] / "teams"
    return beside_package if beside_package.is_dir() else Path("teams")


@app.command("teams-package")
def teams_package(
    app_id: Annotated[
        str | None, typer.Option("--app-id", help="Teams app id (GUID). Default: the bot id.")
    ] = None,
    bot_id: Annotated[
        str | None,
        typer.Option("--bot-id", help=f"Azure Bot's Microsoft App ID. Default: {CLIENT_ID_SETTING}."),
    ] = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Zip to write (a folder: the zip goes inside it).")
    ] = Path(DEFAULT_OUTPUT),
    domain: Annotated[
        list[str] | None,
        typer.Option(
            "--domain", help="Host name for validDomains, e.g. skillmatch.example.com (repeatable)."
        ),
    ] = None,
    website_url: Annotated[
        str | None,
        typer.Option(
            "--website-url", help="https URL shown as the developer's site. Default: https://DOMAIN/."
        ),
    ] = None,
    privacy_url: Annotated[
        str | None, typer.Option("--privacy-url", help="Default: the website URL.")
    ] = None,
    terms_url: Annotated[str | None, typer.Option("--terms-url", help="Default: the website URL.")] = None,
    app_version: Annotated[
        str, typer.Option("--app-version", help="MAJOR.MINOR.PATCH; raise it to update an uploaded app.")
    ] = "1.0.0",
    source: Annotated[
        Path | None, typer.Option("--source", help="Folder with manifest.json, color.png, outline.png.")
    ] = None,
) -> None:
    """Build the Teams app package (manifest with the bot's ids, icons) as a zip to upload to Teams."""
    from assistant.teams_package import PackageError, PackageOptions, build_package

    bot_id = (bot_id or _BotIdentity().client_id or "").strip()
    if not bot_id:
        raise fail(f"no bot id: pass --bot-id or set {CLIENT_ID_SETTING}", USAGE_ERROR)
    app_id = (app_id or bot_id).strip()
    domains = tuple(d.strip().lower() for d in domain or [] if d.strip())
    website_url = website_url or (f"https://{domains[0]}/" if domains else None)
    if not website_url:
        raise fail("pass --website-url (https) or --domain: Teams requires a developer website", USAGE_ERROR)
    if output.is_dir():
        output = output / DEFAULT_OUTPUT
    options = PackageOptions(app_id, bot_id, website_url, privacy_url, terms_url, app_version, domains)
    try:
        manifest = build_package(options, source=source or default_source(), output=output)
    except PackageError as exc:
        raise fail(str(exc), USAGE_ERROR) from None
    except OSError as exc:
        raise fail(f"cannot write {output}: {exc.strerror or exc}") from None
    console.print(
        f"wrote [bold]{output}[/] (app {manifest['id']}, bot {manifest['bots'][0]['botId']}, "
        f"version {manifest['version']}): upload it in Teams under Apps > Manage your apps > Upload an app",
        soft_wrap=True,
    )
