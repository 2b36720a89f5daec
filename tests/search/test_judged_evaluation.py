"""A gold file graded against fewer CVs than the corpus holds: judged-only scoring leaves the others out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skillmatch.config import package_path
from skillmatch.evaluate import GoldQuery, evaluate, load_judged

QUERY = GoldQuery("q1", "Kubernetes", {"anna.md": 3, "dana.md": 2})


def test_an_ungraded_cv_counts_as_a_miss_unless_only_judged_cvs_are_scored() -> None:
    ranked = ["new-cv.md", "anna.md", "dana.md"]  # a CV added after grading ranks first
    plain = evaluate([QUERY], lambda _: ranked)
    judged = evaluate([QUERY], lambda _: ranked, judged=frozenset({"anna.md", "dana.md", "olaf.md"}))
    assert plain.mean("ndcg10") < 0.8 and plain.mean("rr") == 0.5
    assert judged.mean("ndcg10") == pytest.approx(1.0) and judged.mean("rr") == 1.0


def test_the_sample_gold_files_were_graded_against_the_first_36_cvs() -> None:
    for gold in ("gold.json", "gold_holdout.json"):
        judged = load_judged(package_path("sample", gold))
        assert judged is not None and len(judged) == 36
        assert "rebecca-thiel.md" not in judged  # batch 3
        assert judged <= {p.name for p in package_path("sample", "cvs").iterdir()}


def test_a_gold_file_not_listed_in_judged_json_covers_every_cv(tmp_path: Path) -> None:
    (tmp_path / "judged.json").write_text(json.dumps({"other.json": ["a.md"]}), encoding="utf-8")
    assert load_judged(tmp_path / "gold.json") is None
    assert load_judged(tmp_path / "missing" / "gold.json") is None


def test_a_malformed_judged_list_is_refused(tmp_path: Path) -> None:
    (tmp_path / "judged.json").write_text(json.dumps({"gold.json": "a.md"}), encoding="utf-8")
    with pytest.raises(ValueError, match="must map to a list of file names"):
        load_judged(tmp_path / "gold.json")
