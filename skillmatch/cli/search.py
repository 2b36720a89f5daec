"""`skillmatch search` and `skillmatch eval`.

User text (queries, names, CV sentences, file names) is printed as `rich.text.Text`, never parsed as
markup: `[bold]` in a query is shown as typed, and `[/]` cannot crash the output.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from skillmatch.cli.common import DatabaseUrlOption, console, err_console, open_context, report_error
from skillmatch.evaluate import EvalSummary
from skillmatch.matches import Matches, find_matches
from skillmatch.matching import Matcher, MatcherUnavailable, apply, build_matcher, matcher_names
from skillmatch.query import LanguageRequirementError, parse_language_requirement
from skillmatch.search import MODES, InvalidFilters, SearchFilters, SearchResult, results_to_json
from skillmatch.text.negation import shorten
from skillmatch.text.places import canonical_place

if TYPE_CHECKING:
    from skillmatch.comparison import MatcherRun

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
    matcher_name: Annotated[
        str | None,
        typer.Option(
            "--matcher",
            help="Who orders the candidates: hybrid (the search) or llm (a model re-ranks the search's best, "
            "with a reason each). Default: SKILLMATCH_MATCHER, else hybrid.",
        ),
    ] = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Rank people for a staffing request and show the evidence for each; only good matches by default."""
    if not query.strip():
        raise usage_error("the query is empty; describe who you are looking for", 1)
    if mode not in MODES:
        raise usage_error(f"unknown mode {mode!r}; use one of {', '.join(MODES)}", 1)
    filters = build_filters(location, language, available_from, available_to, min_availability)
    context = open_context(ctx, database_url)
    matcher = open_matcher(matcher_name or context.settings.matcher, context.settings)
    if matcher is not None and mode != "hybrid":
        raise usage_error(f"--matcher {matcher.name} re-ranks the hybrid search; leave --mode out")
    context.migrated()
    try:
        searcher = context.searcher
        if show_all:
            scan = max(top, matcher.candidates if matcher else 0)
            results = searcher.search(query, top=scan, filters=filters, mode=mode)  # type: ignore[arg-type]
            if matcher is not None and results:
                judged = matcher.judge(query, results[: matcher.candidates])
                results = apply(judged, results[matcher.candidates :])[:top]
                if judged.fallback:
                    report_note(f"The {matcher.name} matcher could not rank this ({judged.fallback}).")
            matches = None
        else:
            matches = find_matches(searcher, query, top=top, filters=filters, mode=mode, matcher=matcher)  # type: ignore[arg-type]
            results = matches.good
    finally:
        if matcher is not None:
            matcher.close()
        context.close()
    if as_json:
        print(json.dumps(results_to_json(results), ensure_ascii=False, indent=2))
        note = matches.note() if matches is not None else None
        if note:
            report_note(note)
        return
    render_results(query, results, matches)


def open_matcher(name: str, settings: object) -> Matcher | None:
    """The matcher by name (None for the built-in hybrid order); a usage error when it cannot run."""
    try:
        return build_matcher(name, settings)  # type: ignore[arg-type]
    except MatcherUnavailable as exc:
        raise usage_error(f"--matcher: {exc}") from None


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
        if r.reason:
            evidence.append(f"\nwhy: {shorten(r.reason, 200)}", style="italic")
        fit = "–" if r.match is None else f"{r.match:.0%}" + ("" if r.good_match else " weak")
        table.add_row(str(i), who, fit, evidence, Text(r.source_name or ""))
    console.print(table)
    if note:
        console.print(Text(note), soft_wrap=True)


def evaluate(
    ctx: typer.Context,
    gold: Annotated[Path, typer.Argument(help="Gold file: [{id, query, relevance: {file name: 0-3}}].")],
    mode: Annotated[str, typer.Option(help=f"Ranking: {', '.join(MODES)}.")] = "hybrid",
    compare: Annotated[
        str | None,
        typer.Option(
            "--compare",
            help="Matchers side by side from one run, e.g. hybrid,llm: quality, LLM calls, tokens, cost "
            "and latency per matcher.",
        ),
    ] = None,
    judged_only: Annotated[
        bool,
        typer.Option(
            "--judged-only",
            help="Leave out CVs the gold file was not graded against (judged.json beside it).",
        ),
    ] = False,
    details: Annotated[bool, typer.Option(help="One line per query.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Print nDCG@5, nDCG@10, recall@10 and MRR of the ranking on a graded gold file."""
    from skillmatch.comparison import MatcherRun, compare_matchers
    from skillmatch.evaluate import JUDGED_HEADROOM, load_gold, load_judged
    from skillmatch.evaluate import evaluate as run_eval

    if mode not in MODES:
        raise usage_error(f"unknown mode {mode!r}; use one of {', '.join(MODES)}", 1)
    names = [n.strip() for n in compare.split(",") if n.strip()] if compare else []
    if compare is not None:
        unknown = [n for n in names if n not in matcher_names()]
        if not names or unknown:
            shown = repr(unknown[0]) if unknown else "nothing"
            raise usage_error(f"--compare: {shown} is no matcher; use {', '.join(matcher_names())}")
        if mode != "hybrid":
            raise usage_error("--compare re-ranks the hybrid search; leave --mode out")
    try:
        queries = load_gold(gold)
        judged = load_judged(gold) if judged_only else None
    except (OSError, ValueError) as exc:
        report_error(f"cannot read the gold file: {exc}")
        raise typer.Exit(1) from None
    if judged_only and judged is None:
        raise usage_error(f"--judged-only: {gold.parent / 'judged.json'} lists no CVs for {gold.name}")
    context = open_context(ctx, database_url)
    matchers = {name: open_matcher(name, context.settings) for name in names}
    context.migrated()
    try:
        searcher = context.searcher
        if names:
            runs = compare_matchers(queries, searcher, matchers, judged=judged)
        else:
            depth = JUDGED_HEADROOM if judged else 10
            summary = run_eval(
                queries,
                lambda q: [r.source_name or "" for r in searcher.search(q, top=depth, mode=mode)],  # type: ignore[arg-type]
                judged=judged,
            )
            runs = [MatcherRun(mode, summary, None)]  # type: ignore[arg-type]
    finally:
        for matcher in matchers.values():
            if matcher is not None:
                matcher.close()
        context.close()
    print_evaluation(gold, runs, details=details, as_json=as_json, judged=judged is not None)


def subsets(summary: EvalSummary) -> dict[str, EvalSummary]:
    return {
        "all": summary,
        "hard": summary.subset(lambda s: s.query.hard),
        "easy": summary.subset(lambda s: not s.query.hard),
    }


def print_evaluation(
    gold: Path, runs: list[MatcherRun], *, details: bool, as_json: bool, judged: bool
) -> None:
    compared = runs[0].cost is not None
    if as_json:
        if not compared:
            print(json.dumps({name: g.as_dict() for name, g in subsets(runs[0].summary).items()}, indent=2))
            return
        payload = {
            run.name: {
                **{name: g.as_dict() for name, g in subsets(run.summary).items()},
                "cost": run.cost.as_dict(),
            }
            for run in runs
        }
        print(json.dumps(payload, indent=2))
        return
    if details:
        for run in runs:
            per_query = Table(title=Text(f"per query ({run.name})"), header_style="bold")
            for column in ("id", "kind", "nDCG@10", "MRR", "top 3"):
                per_query.add_column(column, overflow="fold")
            for s in run.summary.scores:
                per_query.add_row(
                    Text(s.query.id + ("*" if s.query.hard else "")),
                    Text(s.query.kind),
                    f"{s.ndcg10:.3f}",
                    f"{s.rr:.2f}",
                    Text(", ".join(s.ranked[:3])),
                )
            console.print(per_query)
    scope = ", judged CVs only" if judged else ""
    title = f"{gold.name}{scope}: " + (" vs ".join(r.name for r in runs) if compared else runs[0].name)
    table = Table(title=Text(title), header_style="bold")
    for column in ("matcher", "subset", "queries", "nDCG@5", "nDCG@10", "recall@10", "MRR"):
        table.add_column(column, justify="right")
    for run in runs:
        for name, group in subsets(run.summary).items():
            d = group.as_dict()
            table.add_row(
                run.name,
                name,
                str(d["queries"]),
                f"{d['ndcg@5']:.3f}",
                f"{d['ndcg@10']:.3f}",
                f"{d['recall@10']:.3f}",
                f"{d['mrr']:.3f}",
            )
    console.print(table)
    if not compared:
        return
    costs = Table(title=Text("what each matcher cost (all queries)"), header_style="bold")
    for column in (
        "matcher",
        "LLM calls",
        "fallbacks",
        "tokens in",
        "tokens out",
        "cost $",
        "p50 ms",
        "p95 ms",
    ):
        costs.add_column(column, justify="right")
    for run in runs:
        c = run.cost
        cost = "–" if c.cost_usd is None else f"{c.cost_usd:.5f}"
        costs.add_row(
            run.name,
            str(c.calls),
            str(c.fallbacks),
            f"{c.tokens_in:,}",
            f"{c.tokens_out:,}",
            cost,
            f"{c.p50_ms:.1f}",
            f"{c.p95_ms:.1f}",
        )
    console.print(costs)
