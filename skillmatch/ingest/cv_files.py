"""`ingest cvs PATH`: a folder (or one file) of CVs into the index, with deletions honoured."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from skillmatch.documents import is_supported
from skillmatch.ingest.cv_store import CvStore, DocumentInput, UpsertResult, content_hash
from skillmatch.ingest.report import IngestReport

# Editor lock files and OS litter are not CVs and not worth a warning.
_IGNORED_PREFIXES = (".", "~$", "._")


def iter_files(root: Path) -> Iterator[Path]:
    if root.is_file():
        yield root
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and not any(
            part.startswith(_IGNORED_PREFIXES) for part in path.relative_to(root).parts
        ):
            yield path


def ingest_folder(
    root: Path,
    store: CvStore,
    *,
    on_file: Callable[[Path, UpsertResult | None], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> IngestReport:
    """Index every supported file under `root`; files that vanished since the last run leave the index.

    `source` is the absolute path, so the same folder ingested from another working directory is the same
    set of documents.
    """
    started = time.perf_counter()
    report = IngestReport(source=f"cvs:{root}")
    root = root.expanduser().resolve()
    if not root.exists():
        report.error = f"{root} does not exist"
        return report
    files = list(iter_files(root))
    if on_total:
        on_total(len(files))
    prefix = str(root) if root.is_file() else str(root) + "/"
    known = store.fingerprints(prefix)
    seen: set[str] = set()

    def changed_documents() -> Iterator[DocumentInput]:
        for path in files:
            source = str(path)
            seen.add(source)
            if not is_supported(path.name):
                report.problem(source, f"unsupported file type {path.suffix or '(none)'}; skipped")
            else:
                try:
                    data = path.read_bytes()
                except OSError as exc:
                    report.problem(source, f"cannot read the file: {exc.strerror or exc}")
                else:
                    if known.get(source) != content_hash(data):
                        modified = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
                        yield DocumentInput(source, "file", path.name, data, modified)
                        continue
                    report.count("unchanged")
            if on_file:
                on_file(path, None)

    for result in store.upsert_many(changed_documents()):
        if result.outcome == "failed":
            report.problem(result.source, result.reason or "unknown error")
        else:
            report.count(result.outcome)
            report.count("embedded", result.embedded)
        if on_file:
            on_file(Path(result.source), result)
    for source in sorted(set(known) - seen):
        if store.remove(source):
            report.count("removed")
    report.seconds = time.perf_counter() - started
    return report
