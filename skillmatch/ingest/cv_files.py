"""`ingest cvs PATH`: a folder (or one file) of CVs into the index, with deletions honoured.

What a run may remove: a document whose source lies under exactly this folder (or is exactly this file)
and whose file no longer exists. Paths are compared as strings, never as SQL patterns, so `_`, `%`,
brackets or umlauts in a name match only themselves; `team_a/` never reaches `teamXa/`, and `cv.md`
never reaches `cv.md.txt`. A file the walk skipped (a hidden folder, a link to a folder) but that still
exists is not gone.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from skillmatch.documents import is_supported
from skillmatch.ingest.cv_store import SOURCE_MAX_CHARS, CvStore, DocumentInput, UpsertResult, content_hash
from skillmatch.ingest.report import IngestReport

# Editor lock files and OS litter are not CVs and not worth a warning.
_IGNORED_PREFIXES = (".", "~$", "._")


def iter_files(root: Path, report: IngestReport | None = None) -> Iterator[Path]:
    """Files under `root` in name order. Links to files are read; links to folders are not followed (a
    link back up would make the walk endless, and the target folder can be ingested on its own)."""
    if root.is_file():
        yield root
        return
    for path in sorted(root.rglob("*")):
        if any(part.startswith(_IGNORED_PREFIXES) for part in path.relative_to(root).parts):
            continue
        if path.is_symlink() and path.is_dir():
            if report is not None:
                report.note(shown(path), "a link to a folder; not followed (ingest its target on its own)")
            continue
        if path.is_file():
            yield path


def shown(path: Path | str) -> str:
    """A path as a user can read it, even when its name is not valid UTF-8."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")  # b"\xff" shows as \xff


def _unusable_name(source: str) -> str | None:
    try:
        source.encode("utf-8")
    except UnicodeEncodeError:
        return "the name is not valid UTF-8; rename it"
    if len(source) > SOURCE_MAX_CHARS:
        return f"the path is longer than {SOURCE_MAX_CHARS} characters; move the file to a shorter path"
    return None


def ingest_folder(
    root: Path,
    store: CvStore,
    *,
    on_file: Callable[[Path, UpsertResult | None], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> IngestReport:
    """Index every supported file under `root`; files that vanished since the last run leave the index.

    `source` is the absolute path, so the same folder ingested from another working directory (or with a
    trailing slash, or through `..`) is the same set of documents.
    """
    started = time.perf_counter()
    report = IngestReport(source=f"cvs:{shown(root)}")
    root = root.expanduser().resolve()
    if not root.exists():
        report.error = f"{shown(root)} does not exist"
        return report
    if _unusable_name(str(root)):
        report.error = f"{shown(root)}: {_unusable_name(str(root))}"
        return report
    files = list(iter_files(root, report))
    if on_total:
        on_total(len(files))
    known = store.fingerprints_of(str(root)) if root.is_file() else store.fingerprints_under(str(root))
    seen: set[str] = set()
    max_bytes = store.settings.cv_max_bytes

    def changed_documents() -> Iterator[DocumentInput]:
        for path in files:
            source = str(path)
            seen.add(source)
            problem = _unusable_name(source) or (None if is_supported(path.name) else _unsupported(path))
            if problem is not None:
                report.problem(shown(source), problem)
            else:
                try:
                    size = path.stat().st_size
                    # An oversized file is refused before it is read: its bytes never enter memory.
                    data = path.read_bytes() if size <= max_bytes else None
                except OSError as exc:
                    report.problem(source, f"cannot read the file: {exc.strerror or exc}")
                else:
                    if data is None:
                        report.problem(source, _too_large(size, max_bytes))
                    elif known.get(source) != content_hash(data):
                        modified = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
                        yield DocumentInput(source, "file", path.name, data, modified)
                        continue
                    else:
                        report.count("unchanged")
            if on_file:
                on_file(path, None)

    for result in store.upsert_many(changed_documents()):
        if result.outcome == "failed":
            report.problem(result.source, result.reason or "unknown error")
        else:
            report.count(result.outcome)
            report.count("embedded", result.embedded)
        for remark in result.notes:
            report.note(result.source, remark)
        if on_file:
            on_file(Path(result.source), result)
    for source in sorted(set(known) - seen):
        if os.path.exists(source):
            continue  # still there, only not part of this walk: not gone
        if store.remove(source):
            report.count("removed")
    report.seconds = time.perf_counter() - started
    return report


def _unsupported(path: Path) -> str:
    return f"unsupported file type {path.suffix or '(none)'}; skipped"


def _too_large(size: int, max_bytes: int) -> str:
    return (
        f"the file is {size / 1_048_576:.1f} MB, over the limit of {max_bytes / 1_048_576:.1f} MB "
        "(SKILLMATCH_CV_MAX_BYTES); not read"
    )
