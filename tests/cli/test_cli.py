"""The command line as a user runs it: ingest, search --json, eval, and --database-url everywhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from assistant.cli import app
from tests.search.conftest import CVS

runner = CliRunner()


@pytest.fixture
def cv_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "cvs"
    folder.mkdir()
    for name, text in CVS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def all_commands(group: typer.Typer, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    command = typer.main.get_command(group)
    found: list[tuple[str, ...]] = []

    def walk(cmd, path: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
        subcommands = getattr(cmd, "commands", None)
        if subcommands:
            for name, sub in subcommands.items():
                walk(sub, (*path, name))
        else:
            found.append(path)

    walk(command, prefix)
    return found


NO_DATABASE = {("teams-package",)}  # commands that never open the database


def test_every_command_accepts_database_url() -> None:
    commands = all_commands(app)
    assert ("search",) in commands and ("ingest", "cvs") in commands and ("eval",) in commands
    for path in set(commands) - NO_DATABASE:
        output = invoke(*path, "--help")
        assert "--database-url" in output, path


def test_ingest_then_search_json(cv_folder: Path, database_url: str) -> None:
    invoke("ingest", "cvs", str(cv_folder), "--database-url", database_url)
    query = "Kubernetes migration for a bank"
    good = json.loads(invoke("search", query, "--top", "3", "--json", "--database-url", database_url))
    first = good[0]
    assert first["name"] == "Anna Schmidt" and first["good_match"] is True
    assert first["source"] == str((cv_folder / "anna.md").resolve())
    assert first["evidence"] and isinstance(first["evidence"][0]["text"], str)
    assert all(r["good_match"] for r in good)
    ranked = json.loads(
        invoke("search", query, "--top", "3", "--all", "--json", "--database-url", database_url)
    )
    assert len(ranked) == 3 and ranked[0]["name"] == "Anna Schmidt"
    assert ranked[0]["score"] >= ranked[1]["score"] >= ranked[2]["score"]
    assert [r["name"] for r in ranked if r["good_match"]] == [r["name"] for r in good]


def test_database_url_before_the_subcommand_applies(cv_folder: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'root-option.db'}"
    invoke("--database-url", url, "ingest", "cvs", str(cv_folder))
    assert (tmp_path / "root-option.db").exists()
    assert (
        json.loads(invoke("--database-url", url, "search", "React", "--json", "--top", "1"))[0]["name"]
        == "Emil Roth"
    )


def test_eval_prints_the_four_metrics(cv_folder: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'eval.db'}"
    invoke("ingest", "cvs", str(cv_folder), "--database-url", url)
    gold = tmp_path / "gold.json"
    gold.write_text(
        json.dumps(
            [
                {"id": "a", "query": "Kubernetes for a bank", "relevance": {"anna.md": 3, "dana.txt": 1}},
                {"id": "b", "query": "barrierefreie Webseiten", "relevance": {"emil.md": 3}, "hard": True},
            ]
        )
    )
    metrics = json.loads(invoke("eval", str(gold), "--json", "--database-url", url))
    assert set(metrics["all"]) == {"queries", "ndcg@5", "ndcg@10", "recall@10", "mrr"}
    assert metrics["hard"]["queries"] == 1
    assert metrics["all"]["mrr"] == 1.0
    table = invoke("eval", str(gold), "--database-url", url)
    for column in ("nDCG@5", "nDCG@10", "recall@10", "MRR"):
        assert column in table


def test_user_mistakes_get_clear_errors(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    empty = runner.invoke(app, ["search", "  ", "--database-url", url])
    assert empty.exit_code == 1 and "the query is empty" in empty.output
    bad_gold = tmp_path / "gold.json"
    bad_gold.write_text('{"not": "a list"}')
    result = runner.invoke(app, ["eval", str(bad_gold), "--database-url", url])
    assert result.exit_code == 1 and "expected a JSON list" in result.output
    bad_date = runner.invoke(app, ["search", "java", "--available-from", "next week", "--database-url", url])
    assert bad_date.exit_code == 2 and "YYYY-MM-DD" in bad_date.output
    missing = runner.invoke(app, ["ingest", "cvs", str(tmp_path / "nope"), "--database-url", url])
    assert missing.exit_code == 1 and "does not exist" in missing.output
