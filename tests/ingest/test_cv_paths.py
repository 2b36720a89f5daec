"""Which documents an ingestion run may remove: only files under exactly that folder (or that exact file)
which are gone. Odd paths (wildcard characters, brackets, umlauts, spaces, links) change nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select

from skillmatch.ingest.cv_files import ingest_folder
from skillmatch.ingest.cv_store import CvStore
from skillmatch.models import CvDocument, Person


def cv(name: str, city: str = "Berlin") -> str:
    return f"# {name}\nJava Developer · {city}\n\n## Skills\nJava, Spring Boot and Kafka for banks.\n"


def indexed(store: CvStore) -> set[str]:
    with store.sessions() as session:
        return set(session.scalars(select(CvDocument.source)))


@pytest.mark.parametrize(
    ("folder", "sibling"),
    [("team_a", "teamXa"), ("cv%", "cv-archive"), ("a_b%c", "aXbYYc"), ("team", "team-old")],
)
def test_ingesting_a_folder_never_removes_a_sibling_folder_it_matches_as_a_pattern(
    tmp_path: Path, store: CvStore, folder: str, sibling: str
) -> None:
    (tmp_path / folder).mkdir()
    (tmp_path / sibling).mkdir()
    (tmp_path / folder / "anna.md").write_text(cv("Anna Schmidt"), encoding="utf-8")
    (tmp_path / sibling / "ben.md").write_text(cv("Ben Weber", "Hamburg"), encoding="utf-8")
    ingest_folder(tmp_path / sibling, store)
    report = ingest_folder(tmp_path / folder, store)
    assert report.counts["removed"] == 0
    assert str((tmp_path / sibling / "ben.md").resolve()) in indexed(store)


def test_ingesting_one_file_never_removes_a_sibling_with_a_longer_name(
    tmp_path: Path, store: CvStore
) -> None:
    folder = tmp_path / "pre"
    folder.mkdir()
    (folder / "cv.md").write_text(cv("Anna Schmidt"), encoding="utf-8")
    (folder / "cv.md.txt").write_text(cv("Ben Weber", "Hamburg"), encoding="utf-8")
    ingest_folder(folder, store)
    report = ingest_folder(folder / "cv.md", store)
    assert report.counts["unchanged"] == 1 and report.counts["removed"] == 0
    assert str((folder / "cv.md.txt").resolve()) in indexed(store)


def test_a_vanished_file_in_an_odd_folder_leaves_the_index_and_nothing_else(
    tmp_path: Path, store: CvStore
) -> None:
    folder = tmp_path / "Lebensläufe [alt] 100% _ü"
    folder.mkdir()
    (folder / "anna [final].md").write_text(cv("Anna Schmidt"), encoding="utf-8")
    (folder / "jürgen müller.md").write_text(cv("Jürgen Müller", "Köln"), encoding="utf-8")
    assert ingest_folder(folder, store).counts["added"] == 2
    assert ingest_folder(folder, store).counts["unchanged"] == 2
    (folder / "anna [final].md").unlink()
    report = ingest_folder(folder, store)
    assert report.counts["removed"] == 1
    assert indexed(store) == {str((folder / "jürgen müller.md").resolve())}


def test_a_folder_given_relative_absolute_or_with_a_trailing_slash_is_the_same_folder(
    tmp_path: Path, store: CvStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cvs").mkdir()
    (tmp_path / "cvs" / "anna.md").write_text(cv("Anna Schmidt"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert ingest_folder(Path("cvs/"), store).counts["added"] == 1
    again = ingest_folder(Path(f"{tmp_path}/cvs/"), store)
    assert again.counts["unchanged"] == 1 and again.counts["removed"] == 0
    assert ingest_folder(Path("./cvs/../cvs"), store).counts["unchanged"] == 1


def test_a_file_outside_the_walk_that_still_exists_is_kept(tmp_path: Path, store: CvStore) -> None:
    """A CV indexed on its own from a hidden folder is not "gone" because a folder walk skips hidden ones."""
    folder = tmp_path / "cvs"
    (folder / ".drafts").mkdir(parents=True)
    (folder / "anna.md").write_text(cv("Anna Schmidt"), encoding="utf-8")
    (folder / ".drafts" / "ben.md").write_text(cv("Ben Weber", "Hamburg"), encoding="utf-8")
    ingest_folder(folder / ".drafts" / "ben.md", store)
    report = ingest_folder(folder, store)
    assert report.counts["removed"] == 0
    assert len(indexed(store)) == 2


def test_links_to_files_are_read_and_links_to_folders_are_not_followed(
    tmp_path: Path, store: CvStore
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "ben.md").write_text(cv("Ben Weber", "Hamburg"), encoding="utf-8")
    folder = tmp_path / "cvs"
    (folder / "sub").mkdir(parents=True)
    (folder / "anna.md").write_text(cv("Anna Schmidt"), encoding="utf-8")
    (folder / "ben-link.md").symlink_to(elsewhere / "ben.md")
    (folder / "sub" / "loop").symlink_to(folder)  # a link back up must not make the walk endless
    (folder / "elsewhere").symlink_to(elsewhere)
    report = ingest_folder(folder, store)
    assert report.counts["added"] == 2 and report.problems == []
    assert any("link to a folder" in note.reason for note in report.notes)
    (elsewhere / "ben.md").unlink()  # the link now dangles: the file is gone
    assert ingest_folder(folder, store).counts["removed"] == 1


def test_a_file_name_that_is_not_valid_utf8_is_reported_and_the_batch_goes_on(
    tmp_path: Path, store: CvStore
) -> None:
    folder = tmp_path / "cvs"
    folder.mkdir()
    (folder / "anna.md").write_text(cv("Anna Schmidt"), encoding="utf-8")
    bad = os.fsencode(folder) + b"/ben-\xff.md"
    with open(bad, "wb") as handle:
        handle.write(cv("Ben Weber", "Hamburg").encode())
    report = ingest_folder(folder, store)
    assert report.counts["added"] == 1
    assert len(report.problems) == 1 and "rename" in report.problems[0].reason
    with store.sessions() as session:
        assert set(session.scalars(select(Person.name))) == {"Anna Schmidt"}
