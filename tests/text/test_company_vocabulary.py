"""The company's own vocabulary (SKILLMATCH_LEXICON_FILE): merged into the built-in lexicon, checked at
load with one-line errors that name the file, line and entry, and found by search once CVs are re-read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from assistant.cli import app
from skillmatch.config import Settings
from skillmatch.db import session_factory
from skillmatch.embeddings import OnnxEmbedder
from skillmatch.ingest.cv_files import ingest_folder
from skillmatch.ingest.cv_store import CvStore
from skillmatch.matches import find_matches
from skillmatch.search import Searcher
from skillmatch.text.lexicon import forget_lexicon, get_lexicon
from skillmatch.text.vocabulary import LexiconFileError, load_vocabulary

TODAY = date(2026, 11, 27)
COMPANY = {
    "skills": {
        "helios": {"aliases": ["helios", "helios-plattform"], "phrases": ["rating engine"]},
        "kubernetes": {"aliases": ["kubi"]},
    },
    "glossary": {"tarifrechner": "rating engine"},
}
CVS = {
    "ute.md": """# Ute Brandt
Senior Backend Developer · ute@example.com · Hamburg
## Projects
2021 – present: Extended the Helios platform (pricing rules, batch runs) in Java for our insurance clients.
2018 – 2021: Java services for a logistics company; first Helios interfaces.
""",
    "olaf.md": """# Olaf Lind
Senior Backend Developer · olaf@example.com · Hamburg
## Projects
2020 – present: Java services for an online shop, payment integration.
""",
}


@pytest.fixture
def vocabulary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "company.json"
    path.write_text(json.dumps(COMPANY, indent=2), encoding="utf-8")
    yield path
    monkeypatch.delenv("SKILLMATCH_LEXICON_FILE", raising=False)
    forget_lexicon()


def use(monkeypatch: pytest.MonkeyPatch, path: Path | None) -> None:
    if path is None:
        monkeypatch.delenv("SKILLMATCH_LEXICON_FILE", raising=False)
    else:
        monkeypatch.setenv("SKILLMATCH_LEXICON_FILE", str(path))
    forget_lexicon()


def test_company_terms_extend_the_built_in_lexicon(
    vocabulary_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(monkeypatch, vocabulary_file)
    lexicon = get_lexicon()
    assert "helios" in lexicon.analyse("Worked on the Helios-Plattform").skills
    assert "kubernetes" in lexicon.analyse("runs our kubi clusters").skills  # a built-in skill gains an alias
    assert "kubernetes" in lexicon.analyse("k8s").skills  # and keeps its own
    assert "helios" in lexicon.analyse("Wer kennt unseren Tarifrechner?").skills  # glossary, then the phrase


def test_without_the_file_the_company_terms_are_unknown(vocabulary_file: Path) -> None:
    assert "helios" not in get_lexicon().analyse("Worked on the Helios-Plattform").skills


def test_a_company_term_is_found_by_search_after_the_cvs_are_read_again(
    vocabulary_file: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sqlite_engine: Engine
) -> None:
    folder = tmp_path / "cvs"
    folder.mkdir()
    for name, text in CVS.items():
        (folder / name).write_text(text, encoding="utf-8")
    sessions = session_factory(sqlite_engine)
    embedder = OnnxEmbedder()
    store = CvStore(sessions, embedder, Settings(), today=TODAY)
    assert ingest_folder(folder, store).counts["added"] == 2
    searcher = Searcher(sessions, embedder, today=TODAY)
    assert find_matches(searcher, "Wer kennt unseren Tarifrechner?").good == []

    use(monkeypatch, vocabulary_file)
    report = ingest_folder(folder, store)  # same bytes, new vocabulary: every CV is read again
    assert report.counts["updated"] == 2
    good = find_matches(searcher, "Wer kennt unseren Tarifrechner?").good
    assert [r.name for r in good] == ["Ute Brandt"]
    assert "helios" in good[0].matched_skills


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"skills": {"helios": {"aliases": ["helios",]}}}', ":1: not valid JSON"),
        (
            '{\n  "skills": {\n    "helios": {"alias": ["helios"]}\n  }\n}',
            ":3: skills → 'helios': unknown key 'alias'",
        ),
        (
            '{\n  "skills": {\n    "helios": {"aliases": ["helios", 42]}\n  }\n}',
            "aliases[1]: expected non-empty text",
        ),
        ('{"skills": {"helios": {"aliases": "helios"}}}', "aliases: expected a list of text"),
        ('{"skills": {"helios": {"weight": 7}}}', "weight must be above 0 and at most 2"),
        ('{"skills": {"ap": {}}}', "a name of two letters matches only through aliases"),
        (
            '{"glossary": {"tarif rechner": "rating engine"}}',
            "glossary → 'tarif rechner': keys are single words",
        ),
        ('{"words": {}}', "words: unknown part"),
        ('["helios"]', "top level: expected an object"),
    ],
)
def test_a_malformed_file_is_refused_with_one_line_naming_file_line_and_entry(
    tmp_path: Path, content: str, expected: str
) -> None:
    path = tmp_path / "company.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(LexiconFileError) as raised:
        load_vocabulary(path)
    message = str(raised.value)
    assert message.startswith(str(path))
    assert expected in message
    assert "\n" not in message


def test_a_missing_file_says_which_setting_names_it(tmp_path: Path) -> None:
    with pytest.raises(LexiconFileError, match=r"no such file \(SKILLMATCH_LEXICON_FILE\)"):
        load_vocabulary(tmp_path / "nope.json")


def test_the_cli_stops_on_a_bad_file_with_one_line_and_exit_code_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "company.json"
    path.write_text('{"skills": {"helios": {"aliases": [""]}}}', encoding="utf-8")
    use(monkeypatch, path)
    try:
        result = CliRunner().invoke(app, ["search", "helios", "--database-url", f"sqlite:///{tmp_path}/x.db"])
    finally:
        use(monkeypatch, None)
    assert result.exit_code == 2, result.output
    assert "aliases[0]: expected non-empty text" in result.output
    assert "Traceback" not in result.output
