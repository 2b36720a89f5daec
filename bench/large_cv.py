"""Cost of one oversized CV: `skillmatch ingest cvs FILE` in a fresh process, wall time and peak RSS.

Each case runs the real command line in its own process (so the peak RSS is that file's, plus the fixed
cost of the interpreter, the lexicon and the embedder), against a fresh SQLite database. The baseline is
an ordinary 5 KB CV through the same command: the difference is what the large file costs.

Large text comes in two shapes: `repeated` (one CV whose project paragraph repeats, as a broken export
does) and `distinct` (every line different, so every passage is new to the embedder; slow before the
limit). To measure an older checkout, run the same script with its code first on the path:
`PYTHONPATH=<checkout> .venv/bin/python -m bench.large_cv`.

    .venv/bin/python -m bench.large_cv [--mb 19] [--cases ordinary,long,repeated,distinct,docx]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rich.table import Table
from rich.text import Text

from bench.common import console, machine
from bench.synthetic import cv_document
from tests.builders import docx_bytes

_REFUSED = re.compile(r"(the text is over [\d,]+ characters|over the limit of [\d.]+ MB|unpacks to \d+ MB)")


def _grow(size: int, line: Callable[[int], str]) -> str:
    """One realistic CV whose project section goes on until the text has `size` characters."""
    parts = [cv_document(0).replace("#", ""), "Projects"]
    total, i = sum(len(p) + 1 for p in parts), 0
    while total < size:
        parts.append(line(i))
        total += len(parts[-1]) + 1
        i += 1
    return "\n".join(parts)[:size]


def distinct_text(size: int) -> str:
    return _grow(
        size,
        lambda i: (
            f"Project {i} for client {i % 97} ({2000 + i % 26}): built services with Python and "
            f"PostgreSQL, {i % 9 + 3} people, delivered on time."
        ),
    )


def repeated_text(size: int) -> str:
    return _grow(
        size,
        lambda i: "Built the claims platform with Python and PostgreSQL for an insurer; led a team of six.",
    )


def run_case(command: list[str], env: dict[str, str]) -> tuple[float, float, int, str]:
    """Wall seconds, peak RSS in MB, exit code and the refusal reason of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    refused = _REFUSED.search(" ".join(output.split()))
    return (
        seconds,
        usage.ru_maxrss / 1024,
        os.waitstatus_to_exitcode(status),
        refused.group(1) if refused else "",
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=19.0, help="size of the large text CVs")
    parser.add_argument("--cases", default="ordinary,long,repeated,distinct,docx")
    args = parser.parse_args()
    wanted = set(args.cases.split(","))
    cli = str(Path(sys.executable).with_name("skillmatch"))
    env = {**os.environ, "COLUMNS": "250", "SKILLMATCH_EMBEDDER_THREADS": "2"}
    size = int(args.mb * 1_048_576)
    mb = f"{args.mb:g} MB"
    builders: dict[str, tuple[str, str, Callable[[], bytes]]] = {
        "ordinary": (
            "ordinary CV, 5 KB .txt (baseline)",
            "ordinary.txt",
            lambda: repeated_text(5_000).encode(),
        ),
        "long": ("long CV, 150,000 characters .txt", "long.txt", lambda: distinct_text(150_000).encode()),
        "repeated": (
            f"{mb} .txt, a paragraph repeated",
            "repeated.txt",
            lambda: repeated_text(size).encode(),
        ),
        "distinct": (
            f"{mb} .txt, every line different",
            "distinct.txt",
            lambda: distinct_text(size).encode(),
        ),
        "docx": (
            "2 MB of text in a .docx",
            "large.docx",
            lambda: docx_bytes([ln for ln in distinct_text(2_000_000).split("\n") if ln.strip()]),
        ),
    }
    table = Table(title=f"one CV through `skillmatch ingest cvs` ({machine()})", header_style="bold")
    for column in ("file", "bytes", "seconds", "peak RSS MB", "exit", "outcome"):
        table.add_column(column, justify="right" if column in ("bytes", "seconds", "peak RSS MB") else "left")
    with tempfile.TemporaryDirectory() as tmp:
        for key, (label, name, build) in builders.items():
            if key not in wanted:
                continue
            path = Path(tmp) / name
            path.write_bytes(build())
            command = [cli, "ingest", "cvs", str(path), "--database-url", f"sqlite:///{Path(tmp) / key}.db"]
            seconds, rss, code, reason = run_case(command, env)
            outcome = f"refused: {reason}" if reason else ("indexed" if code == 0 else f"exit {code}")
            table.add_row(
                label, f"{path.stat().st_size:,}", f"{seconds:.1f}", f"{rss:.0f}", str(code), Text(outcome)
            )
            path.unlink()
    console.print(table)


if __name__ == "__main__":
    main()
