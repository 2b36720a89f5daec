"""`skillmatch search` and `skillmatch eval`.

User text (queries, names, CV sentences, file names) is printed as `rich.text.Text`, never parsed as
markup: `[bold]` in a query is shown as typed, and `[/]` cannot crash the output.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from skillmatch.cli.common import DatabaseUrlOption, console, err_console, open_context, report_error
from skillmatch.matches import Matches, find_matches
from skillmatch.query import LanguageRequirementError, parse_language_requirement
from skillmatch.search import MODES, InvalidFilters, SearchFilters, SearchResult, results_to_json
from skillmatch.text.negation import shorten
from skillmatch.text.places import canonical_place

EX_USAGE = 2  # a mistake in the command line: the same code typer uses for its own usage errors
TITLE_CHARS = 120


def usage_error(message: str, code: int = EX_USAGE) -> typer.Exit:
    """One line on stderr and an exit code; the message is printed as typed, never as markup."""
    report_error(message)
    return typer.Exit(code)


def parse_language(value: str | None) -> tuple[str, str] | None:
    """`de`, `de:C1`, `Deutsch:C1`, `german`, `English fluent` -> (ISO code, minimum CEFR level)."""
    if value is None:
        return None
    try:
        return parse_language_requirement(value)
    except LanguageRequirementError as exc:
        raise usage_error(f"--language {exc}") from None


def parse_day(option: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise usage_error(f"{option} {value!r}: dates must be YYYY-MM-DD, e.g. 2027-01-04") from None


def build_filters(
    location: list[str] | None,
    language: str | None,
    available_from: str | None,
    available_to: str | None,
    min_availability: float,
) -> SearchFilters:
    start = parse_day("--available-from", available_from)
    end = parse_day("--available-to", available_to)
    if end and not start:
        raise usage_error("--available-to needs --available-from")
    if start and end and end < start:
        raise usage_error(
            f"--available-to {end} is before --available-from {start}; the period must end after it starts"
        )
    places = [p.strip() for p in location or [] if p.strip()]
    try:
        return SearchFilters(
            # München, Muenchen and Munich are one place (the same normalisation as the CV text).
            locations=[canonical_place(p) or p for p in places],
            language=parse_language(language),
            available_from=start,
            available_to=end,
            min_availability=min_availability,
        )
    except InvalidFilters as exc:
        raise usage_error(str(exc)) from None


def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="The staffing request, in English or German.")],
    top: Annotated[int, typer.Option("--top", "-n", min=1, max=200, help="How many people at most.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list, best first.")] = False,
    show_all: Annotated[
        bool, typer.Option("--all", help="Also list the ranked people below the good-match threshold.")
    ] = False,
    location: Annotated[list[str] | None, typer.Option(help="Only people based here (repeatable).")] = None,
    language: Annotated[
        str | None, typer.Option(help="Spoken language and minimum level, e.g. de:C1, German, Deutsch:B2.")
    ] = None,
    available_from: Annotated[str | None, typer.Option(help="Availability range start, YYYY-MM-DD.")] = None,
    available_to: Annotated[str | None, typer.Option(help="Availability range end, YYYY-MM-DD.")] = None,
    min_availability: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of capacity that must be free in the range.")
    ] = 0.5,
    mode: Annotated[str, typer.Option(help=f"Ranking: {', '.join(MODES)}.")] = "hybrid",
    database_url: DatabaseUrlOption = None,
) -> None:
    """Rank people for a staffing request and show the evidence for each; only good matches by default."""
    if not query.strip():
        raise usage_error("the query is empty; describe who you are looking for", 1)
    if mode not in MODES:
        raise usage_error(f"unknown mode {mode!r}; use one of {', '.join(MODES)}", 1)
    filters = build_filters(location, language, available_from, available_to, min_availability)
    context = open_context(ctx, database_url).migrated()
    try:
        searcher = context.searcher
        if show_all:
            results = searcher.search(query, top=top, filters=filters, mode=mode)  # type: ignore[arg-type]
            matches = None
        else:
            matches = find_matches(searcher, query, top=top, filters=filters, mode=mode)  # type: ignore[arg-type]
            results = matches.good
    finally:
        context.close()
    if as_json:
        print(json.dumps(results_to_json(results), ensure_ascii=False, indent=2))
        note = matches.note() if matches is not None else None
        if note:
            report_note(note)
        return
    render_results(query, results, matches)


def report_note(note: str) -> None:
    err_console.print(Text(note), soft_wrap=True)


def render_results(
    heading: str, results: list[SearchResult], matches: Matches | None = None, *, hint: bool = True
) -> None:
    """The candidates as a table, then what explains a short list; every piece of user text as Text."""
    note = matches.note() if matches is not None else None
    if not results:
        console.print(Text(note or f"No one matches {shorten(heading, TITLE_CHARS)!r}."), soft_wrap=True)
        if hint and matches is not None and matches.weaker:
            console.print(Text("`--all` lists the weaker matches that were left out."), style="dim")
        return
    table = Table(
        title=Text(f"Candidates for: {shorten(heading, TITLE_CHARS)}"), show_lines=True, header_style="bold"
    )
    table.add_column("#", justify="right")
    table.add_column("person")
    table.add_column("match", justify="right")
    table.add_column("evidence", overflow="fold", ratio=3)
    table.add_column("source", overflow="fold")
    for i, r in enumerate(results, 1):
        who = Text(r.name, style="bold")
        for line in (r.title, r.location):
            who.append(f"\n{line or ''}")
        if r.availability is not None:
            who.append(f"\n{r.availability:.0%} free")
        evidence = Text()
        if r.matched_skills:
            evidence.append(f"skills: {', '.join(r.matched_skills)}\n", style="dim")
        evidence.append("\n".join(f"• {shorten(e.text, 160)}" for e in r.evidence[:2]))
        fit = "–" if r.match is None else f"{r.match:.0%}" + ("" if r.good_match else " weak")
        table.add_row(str(i), who, fit, evidence, Text(r.source_name or ""))
    console.print(table)
    if note:
        console.print(Text(note), soft_wrap=True)


def evaluate(
    ctx: typer.Context,
    gold: Annotated[Path, typer.Argument(help="Gold file: [{id, query, relevance: {file name: 0-3}}].")],
    mode: Annotated[str, typer.Option(help=f"Ranking: {', '.join(MODES)}.")] = "hybrid",
    details: Annotated[bool, typer.Option(help="One line per query.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Print nDCG@5, nDCG@10, recall@10 and MRR of the ranking on a graded gold file."""
    from skillmatch.evaluate import evaluate as run_eval
    from skillmatch.evaluate import load_gold

    if mode not in MODES:
        raise usage_error(f"unknown mode {mode!r}; use one of {', '.join(MODES)}", 1)
    try:
        queries = load_gold(gold)
    except (OSError, ValueError) as exc:
        report_error(f"cannot read the gold file: {exc}")
        raise typer.Exit(1) from None
    context = open_context(ctx, database_url).migrated()
    try:
        searcher = context.searcher
        summary = run_eval(
            queries,
            lambda q: [r.source_name or "" for r in searcher.search(q, top=10, mode=mode)],  # type: ignore[arg-type]
        )
    finally:
        context.close()
    groups = {
        "all": summary,
        "hard": summary.subset(lambda s: s.query.hard),
        "easy": summary.subset(lambda s: not s.query.hard),
    }
    if as_json:
        print(json.dumps({name: g.as_dict() for name, g in groups.items()}, indent=2))
        return
    if details:
        per_query = Table(title=Text(f"per query ({mode})"), header_style="bold")
        for column in ("id", "kind", "nDCG@10", "MRR", "top 3"):
            per_query.add_column(column, overflow="fold")
        for s in summary.scores:
            per_query.add_row(
                Text(s.query.id + ("*" if s.query.hard else "")),
                Text(s.query.kind),
                f"{s.ndcg10:.3f}",
                f"{s.rr:.2f}",
                Text(", ".join(s.ranked[:3])),
            )
        console.print(per_query)
    table = Table(title=Text(f"{gold.name}: {mode}"), header_style="bold")
    for column in ("subset", "queries", "nDCG@5", "nDCG@10", "recall@10", "MRR"):
        table.add_column(column, justify="right")
    for name, group in groups.items():
        d = group.as_dict()
        table.add_row(
            name,
            str(d["queries"]),
            f"{d['ndcg@5']:.3f}",
            f"{d['ndcg@10']:.3f}",
            f"{d['recall@10']:.3f}",
            f"{d['mrr']:.3f}",
        )
    console.print(table)
