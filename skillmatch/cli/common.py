"""What every command shares: the --database-url option, settings, an engine with the schema current."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from skillmatch.config import Settings
from skillmatch.db import create_db_engine, ensure_schema, session_factory
from skillmatch.embeddings import Embedder, build_embedder
from skillmatch.ingest.cv_store import CvStore
from skillmatch.search import Searcher

S = TypeVar("S", bound=Settings)
console = Console()
err_console = Console(stderr=True)

DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy URL, e.g. sqlite:///skillmatch.db or postgresql+psycopg://user@host/db "
        "(default: $DATABASE_URL, then sqlite:///skillmatch.db).",
    ),
]


@dataclass
class AppContext:
    settings: Settings

    @cached_property
    def engine(self) -> Engine:
        return create_db_engine(self.settings.database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return session_factory(self.engine)

    @cached_property
    def embedder(self) -> Embedder:
        return build_embedder(self.settings)

    @cached_property
    def store(self) -> CvStore:
        return CvStore(self.sessions, self.embedder, self.settings)

    @cached_property
    def searcher(self) -> Searcher:
        return Searcher(self.sessions, self.embedder)

    def migrated(self) -> AppContext:
        """Bring the schema to head; cheap when already current, so commands just call it."""
        ensure_schema(self.engine)
        return self

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()


def resolve_settings(
    ctx: typer.Context | None,
    database_url: str | None,
    settings_class: type[S] = Settings,  # type: ignore[assignment]
) -> S:
    """The sub-command's --database-url wins, then the one given before it, then DATABASE_URL/.env."""
    if not database_url and ctx is not None:
        database_url = ctx.find_root().params.get("database_url")
    settings = settings_class()
    return settings.model_copy(update={"database_url": database_url}) if database_url else settings


def open_context(ctx: typer.Context | None, database_url: str | None) -> AppContext:
    return AppContext(settings=resolve_settings(ctx, database_url))


def fail(message: str, code: int = 1) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}", soft_wrap=True)
    return typer.Exit(code)
