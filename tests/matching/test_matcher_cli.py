"""`skillmatch search --matcher llm`, `skillmatch eval --compare hybrid,llm` and the search tool with
SKILLMATCH_MATCHER=llm, against the fake model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from assistant.cli import app
from assistant.config import AssistantSettings
from assistant.matching import LLMMatcher
from assistant.runtime import build_matcher
from assistant.telemetry import Telemetry
from assistant.tools import ToolContext, run_tool
from skillmatch.matching import MatcherUnavailable
from skillmatch.search import Searcher
from tests.conftest import TODAY
from tests.fakes.openai_server import FakeOpenAI
from tests.matching.conftest import reverse_ranking

GOLD = [
    {
        "id": "g1",
        "query": "Kubernetes engineer",
        "relevance": {"dana.txt": 3, "anna.md": 2},
        "hard": True,
    },
    {"id": "g2", "query": "Java developer for a bank", "relevance": {"bernd.md": 3}},
]


@pytest.fixture
def model_env(monkeypatch: pytest.MonkeyPatch, model: FakeOpenAI) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", model.base_url)
    monkeypatch.setenv("SKILLMATCH_LLM_PROVIDERS", "openai")
    monkeypatch.setenv("SKILLMATCH_LLM_RETRIES", "0")


def run(*args: str, stdout: bool = False) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout if stdout else result.output


def test_eval_compare_prints_quality_tokens_cost_and_latency_of_each_matcher_from_one_run(
    model_env: None, model: FakeOpenAI, database_file: str, tmp_path: Path
) -> None:
    gold = tmp_path / "gold.json"
    gold.write_text(json.dumps(GOLD), encoding="utf-8")
    model.responder = reverse_ranking
    code, output = run(
        "eval", str(gold), "--compare", "hybrid,llm", "--json", "--database-url", database_file
    )
    assert code == 0, output
    report = json.loads(output)
    assert set(report) == {"hybrid", "llm"}
    for matcher in ("hybrid", "llm"):
        assert set(report[matcher]) == {"all", "hard", "easy", "cost"}
        assert report[matcher]["all"]["queries"] == 2 and report[matcher]["hard"]["queries"] == 1
        assert {"ndcg@5", "ndcg@10", "recall@10", "mrr"} <= set(report[matcher]["all"])
    assert report["hybrid"]["cost"]["llm_calls"] == 0 and report["hybrid"]["cost"]["tokens_in"] == 0
    assert report["llm"]["cost"]["llm_calls"] == 2 and report["llm"]["cost"]["fallbacks"] == 0
    assert report["llm"]["cost"]["tokens_in"] > 0 and report["llm"]["cost"]["cost_usd"] > 0
    assert report["llm"]["cost"]["latency_p50_ms"] > 0
    assert len(model.chat_requests()) == 2  # one call per query


def test_eval_compare_as_a_table_names_both_matchers(
    model_env: None, model: FakeOpenAI, database_file: str, tmp_path: Path
) -> None:
    gold = tmp_path / "gold.json"
    gold.write_text(json.dumps(GOLD), encoding="utf-8")
    model.responder = reverse_ranking
    code, output = run("eval", str(gold), "--compare", "hybrid,llm", "--database-url", database_file)
    assert code == 0, output
    assert "hybrid vs llm" in output and "what each matcher cost" in output


def test_search_with_the_llm_matcher_shows_the_models_reason(
    model_env: None, model: FakeOpenAI, database_file: str
) -> None:
    model.responder = reverse_ranking
    code, output = run(
        "search",
        "Kubernetes engineer",
        "--matcher",
        "llm",
        "--json",
        "--database-url",
        database_file,
    )
    assert code == 0, output
    results = json.loads(output)
    assert results and all(r["reason"].startswith("reason for") for r in results)


def test_the_llm_matcher_without_a_model_is_refused_with_what_to_set(database_file: str) -> None:
    code, output = run("search", "Kubernetes", "--matcher", "llm", "--database-url", database_file)
    assert code == 2
    assert "needs a language model" in output and "OPENAI_API_KEY" in output


def test_an_unknown_matcher_is_refused(database_file: str, tmp_path: Path) -> None:
    code, output = run("search", "Kubernetes", "--matcher", "oracle", "--database-url", database_file)
    assert code == 2 and "unknown matcher 'oracle'; use one of hybrid, llm" in output
    gold = tmp_path / "gold.json"
    gold.write_text(json.dumps(GOLD), encoding="utf-8")
    code, output = run("eval", str(gold), "--compare", "hybrid,oracle", "--database-url", database_file)
    assert code == 2 and "'oracle' is no matcher" in output


def test_the_search_tool_lists_the_matchers_reasons(
    matcher: LLMMatcher, model: FakeOpenAI, searcher: Searcher, sessions: sessionmaker[Session]
) -> None:
    model.responder = reverse_ranking
    context = ToolContext(sessions, searcher, TODAY, matcher=matcher)
    result = run_tool("search_candidates", {"query": "Kubernetes engineer"}, context)
    assert result.error is None
    assert result.records and all(r["why"] for r in result.records)
    assert ",why}:" in result.content  # one more column of the TOON table


def test_the_runtime_builds_the_matcher_named_by_skillmatch_matcher(
    settings: AssistantSettings, sessions: sessionmaker[Session]
) -> None:
    telemetry = Telemetry(settings, sessions)
    assert build_matcher(settings.model_copy(update={"matcher": "hybrid"}), telemetry) is None
    llm = build_matcher(settings.model_copy(update={"matcher": "llm"}), telemetry)
    assert isinstance(llm, LLMMatcher)
    llm.close()
    with pytest.raises(MatcherUnavailable, match="use hybrid or llm"):
        build_matcher(settings.model_copy(update={"matcher": "gpt"}), telemetry)
