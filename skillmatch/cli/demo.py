"""`skillmatch demo`: the bundled dataset into the configured database, then a few searches to show."""

from __future__ import annotations

from datetime import date

import typer
from rich.panel import Panel
from rich.text import Text
from sqlalchemy.engine import make_url

from skillmatch.cli.common import DatabaseUrlOption, console, open_context
from skillmatch.cli.ingest import load_sample, print_report
from skillmatch.cli.search import render_results
from skillmatch.matches import find_matches
from skillmatch.search import SearchFilters

EXAMPLES: list[tuple[str, SearchFilters]] = [
    ("Who could lead a Kubernetes migration for a bank?", SearchFilters()),
    ("Wir suchen eine erfahrene Scrum Masterin für ein Versicherungsprojekt", SearchFilters()),
    (
        "Python developer for a data project",
        SearchFilters(available_from=date(2027, 1, 4), available_to=date(2027, 1, 29), min_availability=0.5),
    ),
]


def demo(ctx: typer.Context, database_url: DatabaseUrlOption = None) -> None:
    """Load the fictional sample data (CVs, Jira, MOCO) and run example searches on it."""
    context = open_context(ctx, database_url).migrated()
    try:
        console.print(Panel.fit("SkillMatch demo: loading the bundled fictional consultancy", style="bold"))
        for report in load_sample(context):
            print_report(report)
        for query, filters in EXAMPLES:
            matches = find_matches(context.searcher, query, top=3, filters=filters)
            heading = query
            if filters.wants_availability:
                heading += f"  [available {filters.available_from} to {filters.available_to}]"
            render_results(heading, matches.good, matches, hint=False)
    finally:
        context.close()
    url = make_url(context.settings.database_url).render_as_string(hide_password=True)
    console.print(
        Panel.fit(
            Text(
                f"Database: {url}\n"
                'Try your own:  .venv/bin/skillmatch search "React developer for an insurer" '
                f"--database-url {url}\n"
                "Quality:      .venv/bin/skillmatch eval skillmatch/sample/gold.json --judged-only "
                f"--database-url {url}"
            ),
            title="next",
        )
    )
