"""The bundled fictional dataset: CVs, a Jira search export and MOCO API exports, loaded through the same
mapping code as the live sources (the fixture files are literally what those APIs return)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from skillmatch.config import package_path
from skillmatch.ingest.cv_files import ingest_folder
from skillmatch.ingest.cv_store import CvStore, UpsertResult
from skillmatch.ingest.jira import import_issues
from skillmatch.ingest.moco import ENDPOINTS, import_records
from skillmatch.ingest.report import IngestReport

SAMPLE_DIR = package_path("sample")


def read_jira_export(path: Path) -> list[Any]:
    """A saved `/rest/api/3/search/jql` response (or a bare list of issues)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    issues = data.get("issues") if isinstance(data, dict) else data
    if not isinstance(issues, list):
        raise ValueError(f"{path}: expected a Jira search response with an `issues` list")
    return issues


def read_moco_exports(folder: Path) -> dict[str, list[dict[str, Any]]]:
    """`users.json`, `employments.json`, `planning_entries.json`, `schedules.json`, `activities.json`:
    each a JSON list as the MOCO API returns it; missing files are simply absent."""
    records: dict[str, list[dict[str, Any]]] = {}
    for endpoint in ENDPOINTS:
        path = folder / f"{endpoint.name}.json"
        if path.exists():
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, list):
                raise ValueError(f"{path}: expected a JSON list of MOCO records")
            records[endpoint.name] = data
    return records


def ingest_sample(
    sessions: sessionmaker[Session],
    store: CvStore,
    *,
    on_file: Callable[[Path, UpsertResult | None], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> list[IngestReport]:
    """CVs first (they create the people), then MOCO users and data, then Jira issues."""
    cvs = ingest_folder(SAMPLE_DIR / "cvs", store, on_file=on_file, on_total=on_total)
    erp = import_records(sessions, read_moco_exports(SAMPLE_DIR / "moco"), source="moco:sample")
    jira = import_issues(
        sessions, read_jira_export(SAMPLE_DIR / "jira" / "issues.json"), source="jira:sample"
    )
    return [cvs, erp, jira]
