"""`skillmatch search` and `skillmatch eval`."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from skillmatch.cli.common import DatabaseUrlOption, console, fail, open_context
from skillmatch.search import MODES, SearchFilters, SearchResult, results_to_json


def parse_language(value: str | None) -> tuple[str, str] | None:
    """`de`, `de:C1`, `German:B2` -> (ISO code, minimum CEFR level)."""
    from skillmatch.cvparse import CEFR, LANGUAGE_NAMES

    if not value:
        return None
    name, _, level = value.partition(":")
    code = LANGUAGE_NAMES.get(name.strip().lower(), name.strip().lower())
    level = (level or "B2").strip().upper()
    if len(code) != 2 or level not in CEFR:
        raise typer.BadParameter(f"{value!r}: use CODE[:LEVEL], e.g. de:C1 or en:B2")
    return code, level


def build_filters(
    location: list[str] | None,
    language: str | None,
    available_from: str | None,
    available_to: str | None,
    min_availability: float,
) -> SearchFilters:
    try:
        start = date.fromisoformat(available_from) if available_from else None
        end = date.fromisoformat(available_to) if available_to else None
    except ValueError as exc:
        raise typer.BadParameter(f"dates must be YYYY-MM-DD ({exc})") from exc
    if end and not start:
        raise typer.BadParameter("--available-to needs --available-from")
    return SearchFilters(
        locations=list(location or []),
        language=parse_language(language),
        available_from=start,
        available_to=end,
        min_availability=min_availability,
    )


def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="The staffing request, in English or German.")],
    top: Annotated[int, typer.Option("--top", "-n", min=1, max=200, help="How many people to return.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list, best first.")] = False,
    location: Annotated[list[str] | None, typer.Option(help="Only people based here (repeatable).")] = None,
    language: Annotated[
        str | None, typer.Option(help="Spoken language and minimum level, e.g. de:C1.")
    ] = None,
    available_from: Annotated[str | None, typer.Option(help="Availability range start, YYYY-MM-DD.")] = None,
    available_to: Annotated[str | None, typer.Option(help="Availability range end, YYYY-MM-DD.")] = None,
    min_availability: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of capacity that must be free in the range.")
    ] = 0.5,
    mode: Annotated[str, typer.Option(help=f"Ranking: {', '.join(MODES)}.")] = "hybrid",
    database_url: DatabaseUrlOption = None,
) -> None:
    """Rank people for a staffing request and show the evidence for each."""
    if not query.strip():
        raise fail("the query is empty; describe who you are looking for")
    if mode not in MODES:
        raise fail(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
    filters = build_filters(location, language, available_from, available_to, min_availability)
    context = open_context(ctx, database_url).migrated()
    try:
        results = context.searcher.search(query, top=top, filters=filters, mode=mode)  # type: ignore[arg-type]
    finally:
        context.close()
    if as_json:
        print(json.dumps(results_to_json(results), ensure_ascii=False, indent=2))
        return
    render_results(query, results)
    if not results and filters.wants_availability:
        console.print("Availability comes from MOCO: run `skillmatch ingest erp` if you have not yet.")


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def render_results(query: str, results: list[SearchResult]) -> None:
    if not results:
        console.print(f"No one matches [bold]{query}[/] yet. Try other words, or ingest more CVs.")
        return
    table = Table(title=f"Candidates for: {query}", show_lines=True, header_style="bold")
    table.add_column("#", justify="right")
    table.add_column("person")
    table.add_column("score", justify="right")
    table.add_column("evidence", overflow="fold", ratio=3)
    table.add_column("source", overflow="fold")
    for i, r in enumerate(results, 1):
        who = f"[bold]{r.name}[/]\n{r.title or ''}\n{r.location or ''}"
        if r.availability is not None:
            who += f"\n{r.availability:.0%} free"
        evidence = "\n".join(f"• {shorten(e.text, 160)}" for e in r.evidence[:2])
        if r.matched_skills:
            evidence = f"[dim]skills: {', '.join(r.matched_skills)}[/]\n{evidence}"
        table.add_row(str(i), who, f"{r.score:.3f}", evidence, r.source_name or "")
    console.print(table)


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
        raise fail(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
    try:
        queries = load_gold(gold)
    except (OSError, ValueError) as exc:
        raise fail(f"cannot read the gold file: {exc}") from exc
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
        per_query = Table(title=f"per query ({mode})", header_style="bold")
        for column in ("id", "kind", "nDCG@10", "MRR", "top 3"):
            per_query.add_column(column, overflow="fold")
        for s in summary.scores:
            per_query.add_row(
                s.query.id + ("*" if s.query.hard else ""),
                s.query.kind,
                f"{s.ndcg10:.3f}",
                f"{s.rr:.2f}",
                ", ".join(s.ranked[:3]),
            )
        console.print(per_query)
    table = Table(title=f"{gold.name}: {mode}", header_style="bold")
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
