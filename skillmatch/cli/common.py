"""What every command shares: the --database-url option, settings, an engine with the schema current, and
one place where database and settings problems become a one-line error instead of a traceback."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, TypeVar

import click
import typer
from pydantic import ValidationError
from pydantic_settings import SettingsError
from rich.console import Console
from rich.markup import escape
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from skillmatch.config import Settings
from skillmatch.db import create_db_engine_from_settings, ensure_schema, session_factory
from skillmatch.db_problems import EX_CONFIG, explain
from skillmatch.embeddings import Embedder, build_embedder
from skillmatch.ingest.cv_store import CvStore
from skillmatch.search import Searcher
from skillmatch.text.vocabulary import LexiconFileError

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
        return create_db_engine_from_settings(self.settings)

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
    """The sub-command's --database-url wins, then the one given before it, then DATABASE_URL/.env.
    An empty --database-url "" is kept (and refused later), not silently replaced by the default."""
    if database_url is None and ctx is not None:
        database_url = ctx.find_root().params.get("database_url")
    settings = settings_class()
    return (
        settings.model_copy(update={"database_url": database_url}) if database_url is not None else settings
    )


def open_context(ctx: typer.Context | None, database_url: str | None) -> AppContext:
    return AppContext(settings=resolve_settings(ctx, database_url))


def fail(message: str, code: int = 1) -> typer.Exit:
    """One error line (the message is never read as markup: it may quote the user) and the exit."""
    report_error(message)
    return typer.Exit(code)


def report_error(message: str) -> None:
    err_console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True, highlight=False)


class ErrorReportingGroup(typer.core.TyperGroup):
    """The root command: whatever a command does, a database or settings problem it runs into ends as
    one line on stderr and an exit code (2: fix the configuration, 75: try again later). Anything else
    is a bug and keeps its traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise  # the command already said what it had to say
        except LexiconFileError as exc:  # the company vocabulary file: file, line, entry and the problem
            report_error(str(exc))
            raise typer.Exit(EX_CONFIG) from None
        except (ValidationError, SettingsError) as exc:
            if isinstance(exc, ValidationError) and not exc.title.endswith("Settings"):
                raise
            report_error(settings_problem(exc))
            raise typer.Exit(EX_CONFIG) from None
        except Exception as exc:
            problem = explain(exc)
            if problem is None:
                raise
            report_error(problem.message)
            raise typer.Exit(problem.exit_code) from None


def settings_problem(exc: ValidationError | SettingsError) -> str:
    """Which variable is wrong and why, never its value (it may be a secret)."""
    if isinstance(exc, SettingsError):
        return f"{exc} (see README, Configuration)"
    parts = [f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()]
    return f"invalid setting {'; '.join(parts)} (see README, Configuration)"
