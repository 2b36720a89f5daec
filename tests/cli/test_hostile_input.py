"""The command line as a hostile new user meets it: markup in queries and file names, emoji, 10,000
characters, broken and huge files, contradicting filters, and exit codes that cron can act on."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from tests.builders import pdf_bytes
from tests.search.conftest import CVS

runner = CliRunner(env={"COLUMNS": "250"})


def run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


@pytest.fixture(scope="module")
def small_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("small") / "cvs"
    folder.mkdir()
    for name, text in CVS.items():
        (folder / name).write_text(text, encoding="utf-8")
    url = f"sqlite:///{folder.parent / 'small.db'}"
    assert run("ingest", "cvs", str(folder), "--database-url", url).exit_code == 0
    return url


@pytest.mark.parametrize(
    "query",
    [
        "C# [/] developer [bold]",
        "[bold]Kubernetes[/] migration [red]",
        "Kubernetes [link=http://x]here[/link]",
    ],
)
def test_square_brackets_in_a_query_are_shown_as_typed_and_never_crash(small_db: str, query: str) -> None:
    result = run("search", query, "--all", "--database-url", small_db)
    assert result.exit_code == 0, result.output
    assert result.exception is None
    assert query in result.stdout  # the table title shows the query exactly as typed


def test_a_query_of_emoji_or_ten_thousand_characters_gets_an_honest_empty_answer(small_db: str) -> None:
    for query in ("🚀🚀 rockstar ninja 🤖", "k" * 10_000, "'; DROP TABLE people; --"):
        result = run("search", query, "--database-url", small_db)
        assert result.exit_code == 0, result.output
        assert "Nobody matches well" in result.stdout
        assert "Candidates for" not in result.stdout
        as_json = run("search", query, "--json", "--database-url", small_db)
        assert json.loads(as_json.stdout) == []
        assert "Nobody matches well" in as_json.stderr


def test_an_inverted_period_is_refused_with_one_line(small_db: str) -> None:
    result = run(
        "search", "Kubernetes", "--available-from", "2027-03-01", "--available-to", "2027-01-01",
        "--database-url", small_db,
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.strip().count("\n") == 0
    assert "--available-to 2027-01-01 is before --available-from 2027-03-01" in result.stderr


@pytest.mark.parametrize("spelling", ["München", "Muenchen", "Munchen", "MÜNCHEN", "munich", " Munich "])
def test_a_location_filter_understands_every_spelling_of_a_city(small_db: str, spelling: str) -> None:
    result = run("search", "cloud", "--location", spelling, "--all", "--json", "--database-url", small_db)
    assert result.exit_code == 0, result.output
    assert {r["name"] for r in json.loads(result.stdout)} == {"Anna Schmidt", "Dana Keller"}


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [("Köln", {"Emil Roth"}), ("Koeln", {"Emil Roth"}), ("Koln", {"Emil Roth"}), ("Cologne", {"Emil Roth"})],
)
def test_german_english_and_ascii_city_names_are_one_place(
    small_db: str, spelling: str, expected: set
) -> None:
    result = run("search", "React", "--location", spelling, "--all", "--json", "--database-url", small_db)
    assert {r["name"] for r in json.loads(result.stdout)} == expected


@pytest.mark.parametrize(
    "language", ["de:C1", "Deutsch:C1", "german:c1", "German C1", "DE-C1", "deutsch (fließend)"]
)
def test_a_language_filter_accepts_names_codes_and_level_words(small_db: str, language: str) -> None:
    result = run(
        "search", "project manager", "--language", language, "--all", "--json", "--database-url", small_db
    )
    assert result.exit_code == 0, result.output
    names = {r["name"] for r in json.loads(result.stdout)}
    assert "Carla Nowak" not in names and names  # her German is B1


def test_an_unknown_language_is_a_one_line_error(small_db: str) -> None:
    result = run("search", "Java", "--language", "Klingon:C1", "--database-url", small_db)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "unknown language 'Klingon'" in result.stderr and "de:C1" in result.stderr
    markup = run("search", "Java", "--language", "[bold]Klingon", "--database-url", small_db)
    assert markup.exit_code == 2 and "'[bold]Klingon'" in markup.stderr


def test_a_filter_that_leaves_nobody_says_which_filter_and_whom_it_left_out(small_db: str) -> None:
    result = run("search", "Kubernetes", "--location", "Atlantis", "--database-url", small_db)
    assert result.exit_code == 0
    assert "Nobody matches well within the filters" in result.stdout
    assert "Anna Schmidt (based in Munich)" in result.stdout
    assert "Relax the location filter" in result.stdout
    assert "Try other words" not in result.stdout  # the query is fine: the filter is what excludes


def test_ingest_exits_0_when_everything_was_indexed_and_3_when_files_failed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    good = tmp_path / "good"
    good.mkdir()
    (good / "anna.md").write_text(CVS["anna.md"], encoding="utf-8")
    assert run("ingest", "cvs", str(good), "--database-url", url).exit_code == 0
    mixed = tmp_path / "mixed [2024] 100%_x"
    mixed.mkdir()
    (mixed / "bernd.md").write_text(CVS["bernd.md"], encoding="utf-8")
    (mixed / "[bold]empty[red].md").write_bytes(b"")
    (mixed / "video.pdf").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 4000)  # a binary renamed
    result = run("ingest", "cvs", str(mixed), "--database-url", url)
    assert result.exit_code == 3, result.output
    assert "[bold]empty[red].md" in result.stdout and "video.pdf" in result.stdout
    assert "mixed [2024] 100%_x" in result.stdout
    missing = run("ingest", "cvs", str(tmp_path / "nope [x]"), "--database-url", url)
    assert missing.exit_code == 1 and "nope [x] does not exist" in missing.stderr


def test_a_pdf_librarys_warning_is_reported_with_its_file_and_not_on_its_own(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "cvs"
    folder.mkdir()
    data = pdf_bytes(["Dieter Braun", "SAP ABAP developer, S/4HANA migrations for retail clients."])
    (folder / "dieter.pdf").write_bytes(data.replace(b"%%EOF", b"%%EO"))  # a truncated upload
    (folder / "broken.pdf").write_bytes(data.replace(b"%%EOF", b""))
    with caplog.at_level(logging.WARNING):
        result = run("ingest", "cvs", str(folder), "--database-url", f"sqlite:///{tmp_path / 'x.db'}")
    assert result.exit_code == 3, result.output
    assert not [r for r in caplog.records if r.name.startswith("pypdf")]  # nothing printed unattributed
    notes = result.stdout[result.stdout.index("notes") :]
    assert "dieter.pdf" in notes and "EOF marker seems truncated" in notes
    problems = result.stdout[result.stdout.index("problems") : result.stdout.index("notes")]
    assert "broken.pdf" in problems and "EOF marker not found" in problems


def test_the_demo_shows_its_own_bracketed_heading(sample_db_url: str) -> None:
    result = run("demo", "--database-url", sample_db_url)
    assert result.exit_code == 0, result.output
    assert "[available 2027-01-04 to 2027-01-29]" in result.stdout


def test_eval_prints_ids_and_file_names_as_typed(small_db: str, tmp_path: Path) -> None:
    gold = tmp_path / "gold [v2].json"
    gold.write_text(json.dumps([{"id": "[red]q1[/]", "query": "Kubernetes", "relevance": {"anna.md": 3}}]))
    result = run("eval", str(gold), "--details", "--database-url", small_db)
    assert result.exit_code == 0, result.output
    assert "[red]q1[/]" in result.stdout and "gold [v2].json" in result.stdout


def test_searching_an_empty_index_says_to_ingest_first(tmp_path: Path) -> None:
    result = run("search", "Java developer", "--database-url", f"sqlite:///{tmp_path / 'empty.db'}")
    assert result.exit_code == 0
    assert "the index has no CVs yet (run `skillmatch ingest cvs PATH`)" in result.stdout


def test_an_error_that_quotes_the_user_never_reads_their_brackets_as_markup(tmp_path) -> None:
    from typer.testing import CliRunner

    from assistant.cli import app

    result = CliRunner().invoke(
        app, ["audit", "--since", "[bold]7x[/]", "--database-url", f"sqlite:///{tmp_path / 'x.db'}"]
    )
    assert result.exit_code != 0
    assert "[bold]7x[/]" in result.output
