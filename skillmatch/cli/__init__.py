"""`skillmatch ...`: the command-line entry point."""

from __future__ import annotations

from typing import Annotated

import typer

from skillmatch.cli.common import DatabaseUrlOption, ErrorReportingGroup, console, open_context

app = typer.Typer(
    name="skillmatch",
    cls=ErrorReportingGroup,
    help="Find the right consultants from CVs, Jira history and ERP allocation data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
app.add_typer(db_app, name="db")


@app.callback()
def main(database_url: DatabaseUrlOption = None) -> None:
    """A --database-url given here applies to the sub-command unless it names its own."""


RevisionArgument = Annotated[str, typer.Argument(help="head, base, or a revision id such as 0002.")]


@db_app.command("upgrade")
def db_upgrade(
    ctx: typer.Context, revision: RevisionArgument = "head", database_url: DatabaseUrlOption = None
) -> None:
    """Apply migrations up to REVISION (default: head). Safe while other processes migrate too."""
    from skillmatch.db import current_revision, upgrade

    context = open_context(ctx, database_url)
    try:
        upgrade(context.engine, revision)
        console.print(f"schema at revision [bold]{current_revision(context.engine)}[/]")
    finally:
        context.close()


@db_app.command("downgrade")
def db_downgrade(
    ctx: typer.Context, revision: RevisionArgument, database_url: DatabaseUrlOption = None
) -> None:
    """Revert migrations down to REVISION ('base' removes every table)."""
    from skillmatch.db import current_revision, downgrade

    context = open_context(ctx, database_url)
    try:
        downgrade(context.engine, revision)
        console.print(f"schema at revision [bold]{current_revision(context.engine) or 'base'}[/]")
    finally:
        context.close()


def _register_subcommands() -> None:
    import skillmatch.cli.ingest_remote  # noqa: F401 - registers ingest sharepoint|jira|erp
    from skillmatch.cli.demo import demo
    from skillmatch.cli.ingest import ingest_app
    from skillmatch.cli.search import evaluate, search

    app.add_typer(ingest_app, name="ingest")
    app.command("search")(search)
    app.command("eval")(evaluate)
    app.command("demo")(demo)


_register_subcommands()
