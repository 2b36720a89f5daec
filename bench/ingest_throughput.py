"""Offline ingestion throughput: the bundled sample set and a 1,000-document synthetic set (a mix of .md,
.txt, .docx and .pdf) into a fresh SQLite database, then an unchanged re-run.

Baseline: the first run of the same folder in the same process. Targets: >= 20 documents/s on 2 cores; the
no-change re-run at least 20x faster than the first.

    .venv/bin/python -m bench.ingest_throughput [--documents 1000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from rich.table import Table

from bench.common import console, machine, progress
from bench.synthetic import cv_document
from skillmatch.config import Settings, package_path
from skillmatch.db import create_db_engine, session_factory, upgrade
from skillmatch.embeddings import OnnxEmbedder
from skillmatch.ingest.cv_files import ingest_folder
from skillmatch.ingest.cv_store import CvStore
from skillmatch.text.lexicon import get_lexicon
from tests.builders import docx_bytes, pdf_bytes


def write_synthetic(folder: Path, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with progress() as bar:
        task = bar.add_task("writing synthetic CVs", total=n)
        for i in range(n):
            text = cv_document(i)
            kind = i % 4
            if kind == 0:
                (folder / f"cv-{i}.md").write_text(text, encoding="utf-8")
            elif kind == 1:
                (folder / f"cv-{i}.txt").write_text(text.replace("#", ""), encoding="utf-8")
            elif kind == 2:
                (folder / f"cv-{i}.docx").write_bytes(docx_bytes([ln for ln in text.split("\n") if ln]))
            else:
                (folder / f"cv-{i}.pdf").write_bytes(pdf_bytes([ln[:95] for ln in text.split("\n") if ln]))
            bar.advance(task)


def run(folder: Path, workdir: Path, label: str, table: Table) -> None:
    engine = create_db_engine(f"sqlite:///{workdir / (label + '.db')}")
    upgrade(engine)
    embedder = OnnxEmbedder()
    # Start-up costs, not throughput: loading the model, compiling the lexicon, importing the parsers.
    embedder.embed(["warm up"])
    get_lexicon().analyse("warm up")
    import docx  # noqa: F401
    import pypdf  # noqa: F401

    store = CvStore(session_factory(engine), embedder, Settings())
    start = time.perf_counter()
    first = ingest_folder(folder, store)
    first_s = time.perf_counter() - start
    start = time.perf_counter()
    again = ingest_folder(folder, store)
    again_s = time.perf_counter() - start
    docs = first.counts["added"]
    assert again.counts["unchanged"] == docs, again.counts
    table.add_row(
        label,
        str(docs),
        str(len(first.problems)),
        f"{first_s:.2f}",
        f"{docs / first_s:.1f}",
        f"{again_s:.3f}",
        f"{first_s / again_s:.0f}x",
    )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=int, default=1000)
    args = parser.parse_args()
    table = Table(title=f"offline ingestion ({machine()})", header_style="bold")
    for column in ("set", "documents", "problems", "first run s", "docs/s", "unchanged re-run s", "speed-up"):
        table.add_column(column, justify="right")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        run(package_path("sample", "cvs"), workdir, "sample", table)
        write_synthetic(workdir / "synthetic", args.documents)
        run(workdir / "synthetic", workdir, "synthetic", table)
    console.print(table)
    console.print("targets: >= 20 documents/s; unchanged re-run >= 20x faster than the first run")


if __name__ == "__main__":
    main()
