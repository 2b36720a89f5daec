"""SharePoint ingestion through msal and the real Graph client against the fake identity + Graph server."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from skillmatch.config import Settings
from skillmatch.ingest.report import IngestReport
from skillmatch.ingest.sharepoint import GraphTokenProvider, ingest_sharepoint
from skillmatch.models import CvDocument, SyncState
from tests.fakes.graph import FakeGraph
from tests.ingest_remote.conftest import RecordingStore, Waits, graph_env, make_settings

ANNA_CV = b"# Anna Roth\n\nSenior consultant. Python, Azure, Kubernetes. German and English.\n"
BEN_CV = b"Ben Weber\nData engineer: Spark, Kafka, PostgreSQL.\n"
CARLA_CV = b"Carla Nowak\nFrontend developer: React, TypeScript.\n"


def settings_for(fake: FakeGraph, **extra: object) -> Settings:
    return make_settings(**(graph_env(fake) | extra))


def run(sessions: sessionmaker[Session], fake: FakeGraph, store, waits=None, **kw) -> IngestReport:  # type: ignore[no-untyped-def]
    settings = kw.pop("settings", None) or settings_for(fake)
    return ingest_sharepoint(sessions, settings, store, wait=waits, **kw)


def seed(fake: FakeGraph) -> dict[str, str]:
    cvs = fake.add_folder("CVs")
    team = fake.add_folder("Team B", parent=cvs)
    return {
        "anna": fake.add_file(
            "Anna Roth.md", ANNA_CV, parent=cvs, modified=datetime(2024, 5, 1, 8, 30, tzinfo=UTC)
        ),
        "ben": fake.add_file("Ben Weber.txt", BEN_CV, parent=cvs),
        "sheet": fake.add_file("skills matrix.xlsx", b"PK\x03\x04", parent=cvs),
        "carla": fake.add_file("Carla Nowak.txt", CARLA_CV, parent=team),
        "readme": fake.add_file("README.txt", b"not a CV, outside the CV folder"),
    }


def source(fake: FakeGraph, item_id: str) -> str:
    return f"sharepoint:{fake.drive_id}:{item_id}"


def stored_cursor(sessions: sessionmaker[Session], fake: FakeGraph) -> dict | None:
    with sessions() as session:
        state = session.get(SyncState, f"sharepoint:{fake.drive_id}")
        return json.loads(state.cursor) if state and state.cursor else None


def test_first_sync_pages_through_delta_and_uploads_supported_files(
    sessions: sessionmaker[Session], graph: FakeGraph
) -> None:
    graph.page_size = 2
    ids = seed(graph)
    store = RecordingStore()

    report = run(sessions, graph, store)

    assert report.ok, report.error
    assert set(store.documents) == {source(graph, ids[k]) for k in ("anna", "ben", "carla", "readme")}
    anna = store.documents[source(graph, ids["anna"])]
    assert (anna.source_kind, anna.display_name, anna.data) == ("sharepoint", "Anna Roth.md", ANNA_CV)
    assert anna.modified_at == datetime(2024, 5, 1, 8, 30, tzinfo=UTC)
    assert anna.web_url == "https://contoso.sharepoint.com/sites/people/Shared%20Documents/Anna%20Roth.md"
    assert (report.counts["added"], report.counts["folders"], report.counts["unsupported"]) == (4, 3, 1)

    # the wire: one token for the whole run, bearer on Graph, never on the pre-signed download URL
    assert len(graph.issued_tokens) == 1 and graph.token_scopes == [f"{graph.origin}/.default"]
    deltas = graph.delta_requests
    assert len(deltas) == 4  # 8 items (the root, 2 folders, 5 files) at 2 per page
    assert deltas[0].path == f"/v1.0/drives/{graph.drive_id}/root/delta" and deltas[0].param("token") is None
    assert all(r.param("token") for r in deltas[1:])
    for request in graph.requests_to("/v1.0/"):
        assert request.header("authorization") == f"Bearer {graph.issued_tokens[0]}"
    downloads = graph.requests_to("/download/")
    assert len(downloads) == 4 and all(r.header("authorization") is None for r in downloads)
    cursor = stored_cursor(sessions, graph)
    assert cursor is not None and "/root/delta?token=" in cursor["deltaLink"]


def test_incremental_run_uses_the_delta_link_and_applies_changes_and_deletions(
    sessions: sessionmaker[Session], graph: FakeGraph
) -> None:
    ids = seed(graph)
    store = RecordingStore()
    assert run(sessions, graph, store).ok
    delta_link = stored_cursor(sessions, graph)["deltaLink"]  # type: ignore[index]

    graph.update_file(ids["anna"], ANNA_CV + b"Now also Terraform.\n")
    graph.delete(ids["ben"])
    dora = graph.add_file(
        "Dora Lang.md", b"# Dora Lang\nSAP consultant.\n", parent=graph.items[ids["anna"]].parent
    )
    graph.clear_requests()
    store.calls.clear()
    report = run(sessions, graph, store)

    assert report.ok, report.error
    (delta,) = graph.delta_requests
    assert delta.param("token") == delta_link.rsplit("token=", 1)[1]
    assert sorted(store.upserted()) == sorted([source(graph, ids["anna"]), source(graph, dora)])
    assert store.removed() == [source(graph, ids["ben"])]
    assert source(graph, ids["ben"]) not in store.documents
    assert store.documents[source(graph, ids["anna"])].data.endswith(b"Terraform.\n")
    assert (report.counts["updated"], report.counts["added"], report.counts["removed"]) == (1, 1, 1)
    assert len(graph.requests_to("/download/")) == 2  # unchanged files are not downloaded again


def test_delta_link_is_stored_only_after_a_complete_round(
    sessions: sessionmaker[Session], graph: FakeGraph, waits: Waits
) -> None:
    graph.page_size = 3
    ids = seed(graph)
    store = RecordingStore()
    graph.fail_next(500, times=None, match="/delta", after=1)

    report = run(sessions, graph, store, waits)

    assert report.error is not None and "HTTP 500 from GET" in report.error
    assert "token=" not in report.error  # links are named without their query string
    assert waits == [1.0, 2.0]
    assert store.upserted() == [source(graph, ids["readme"])]  # page 1 (root, CVs, README) is kept
    assert stored_cursor(sessions, graph) is None

    graph.clear_faults()
    graph.clear_requests()
    report = run(sessions, graph, store, waits)

    assert report.ok, report.error
    assert graph.delta_requests[0].param("token") is None  # the round starts again, Graph semantics
    assert len(store.documents) == 4 and report.counts["unchanged"] == 1
    assert stored_cursor(sessions, graph) is not None


def test_resync_required_restarts_a_full_round_and_drops_what_is_gone(
    sessions: sessionmaker[Session], graph: FakeGraph
) -> None:
    ids = seed(graph)
    store = RecordingStore()
    assert run(sessions, graph, store).ok
    old_link = stored_cursor(sessions, graph)["deltaLink"]  # type: ignore[index]

    # Ben's CV disappears while our token expires: the tombstone is never delivered to us
    graph.delete(ids["ben"])
    graph.require_resync()
    graph.clear_requests()
    report = run(sessions, graph, store)

    assert report.ok, report.error
    first, second = graph.delta_requests
    assert first.param("token") == old_link.rsplit("token=", 1)[1]
    assert second.param("token") is None
    assert report.counts["resync"] == 1 and report.counts["removed"] == 1
    assert source(graph, ids["ben"]) not in store.documents and len(store.documents) == 3
    assert stored_cursor(sessions, graph)["deltaLink"] != old_link  # type: ignore[index]


def test_folder_scope_uses_the_folders_delta(sessions: sessionmaker[Session], graph: FakeGraph) -> None:
    ids = seed(graph)
    store = RecordingStore()

    report = run(sessions, graph, store, settings=settings_for(graph, SHAREPOINT_FOLDER="/CVs/"))

    assert report.ok, report.error
    assert graph.delta_requests[0].path == f"/v1.0/drives/{graph.drive_id}/root:/CVs:/delta"
    assert source(graph, ids["readme"]) not in store.documents and len(store.documents) == 3


def test_graph_401_is_a_clear_error(sessions: sessionmaker[Session], graph: FakeGraph, waits: Waits) -> None:
    seed(graph)
    graph.fail_next(401, match="/v1.0/")

    report = run(sessions, graph, RecordingStore(), waits)

    assert report.error is not None
    assert report.error.startswith("sharepoint: access denied (HTTP 401) at GET ")
    assert "Sites.Read.All" in report.error and waits == []


def test_a_wrong_client_secret_is_a_clear_error(sessions: sessionmaker[Session], graph: FakeGraph) -> None:
    report = run(
        sessions,
        graph,
        RecordingStore(),
        settings=settings_for(graph, SHAREPOINT_CLIENT_SECRET="wrong-secret"),
    )

    assert report.error is not None
    assert report.error.startswith("sharepoint: Graph token refused (invalid_client: AADSTS7000215")
    assert "wrong-secret" not in report.error
    assert graph.delta_requests == []


def test_429_on_graph_waits_for_retry_after(
    sessions: sessionmaker[Session], graph: FakeGraph, waits: Waits
) -> None:
    seed(graph)
    graph.fail_next(429, headers={"Retry-After": "5"}, match="/delta")

    report = run(sessions, graph, RecordingStore(), waits)

    assert report.ok and waits == [5.0]


def test_malformed_json_is_a_clear_error_naming_the_source(
    sessions: sessionmaker[Session], graph: FakeGraph
) -> None:
    seed(graph)
    graph.malformed_next(match="/delta")

    report = run(sessions, graph, RecordingStore())

    assert report.error is not None
    assert report.error.startswith(
        f"sharepoint: malformed JSON from GET {graph.base_url}/drives/{graph.drive_id}/root/delta ("
    )


def test_oversized_and_vanished_files_are_problems_not_failures(
    sessions: sessionmaker[Session], graph: FakeGraph
) -> None:
    ids = seed(graph)
    graph.fail_next(404, match=f"/items/{ids['ben']}/content")

    report = run(sessions, graph, RecordingStore(), settings=settings_for(graph, SKILLMATCH_CV_MAX_BYTES=60))

    assert report.ok, report.error
    reasons = {p.item: p.reason for p in report.problems}
    assert reasons == {
        "Anna Roth.md": f"{len(ANNA_CV)} bytes is over SKILLMATCH_CV_MAX_BYTES",
        "Ben Weber.txt": "download failed (HTTP 404)",
    }


def test_tokens_and_secrets_never_reach_the_logs(
    sessions: sessionmaker[Session], graph: FakeGraph, caplog: pytest.LogCaptureFixture, waits: Waits
) -> None:
    seed(graph)
    graph.fail_next(503, match="/download/")  # a retry logs a warning with the URL
    caplog.set_level(logging.DEBUG)

    assert run(sessions, graph, RecordingStore(), waits).ok
    run(
        sessions,
        graph,
        RecordingStore(),
        settings=settings_for(graph, SHAREPOINT_CLIENT_SECRET="wrong-secret"),
    )

    assert waits == [1.0] and caplog.records
    tickets = [r.param("tempauth") for r in graph.requests_to("/download/")]
    for secret in [graph.client_secret, "wrong-secret", *graph.issued_tokens, *tickets]:
        assert secret and secret not in caplog.text


def test_default_scope_is_graphs_own() -> None:
    for graph_url, scope in [
        ("https://graph.microsoft.com/v1.0", "https://graph.microsoft.com/.default"),
        ("https://graph.microsoft.us/v1.0", "https://graph.microsoft.us/.default"),  # sovereign cloud
    ]:
        provider = GraphTokenProvider(make_settings(GRAPH_BASE_URL=graph_url))
        assert provider.scope == scope
        provider.close()


def test_documents_reach_the_real_cv_store(sessions: sessionmaker[Session], graph: FakeGraph) -> None:
    """Through the real CvStore and the offline embedder: indexed, then removed when deleted in SharePoint."""
    from skillmatch.embeddings import build_embedder
    from skillmatch.ingest.cv_store import CvStore

    settings = settings_for(graph)
    store = CvStore(sessions, build_embedder(settings), settings)
    ids = seed(graph)

    report = ingest_sharepoint(sessions, settings, store)

    assert report.ok, report.error
    with sessions() as session:
        documents = {d.source: d for d in session.scalars(select(CvDocument))}
    anna = documents[source(graph, ids["anna"])]
    assert (anna.source_kind, anna.display_name) == ("sharepoint", "Anna Roth.md")
    assert anna.web_url and anna.web_url.endswith("Anna%20Roth.md") and "Kubernetes" in anna.extracted_text

    graph.delete(ids["anna"])
    assert ingest_sharepoint(sessions, settings, store).ok
    with sessions() as session:
        remaining = set(session.scalars(select(CvDocument.source)))
    assert source(graph, ids["anna"]) not in remaining and source(graph, ids["ben"]) in remaining


# --- the CLI ---------------------------------------------------------------------------------------------


@pytest.fixture
def cli_store(monkeypatch: pytest.MonkeyPatch) -> RecordingStore:
    store = RecordingStore()
    monkeypatch.setattr("skillmatch.cli.ingest_remote.open_cv_store", lambda context: store)
    return store


def test_cli_ingests_sharepoint(
    database_url: str, graph: FakeGraph, cli_store: RecordingStore, run_cli
) -> None:  # type: ignore[no-untyped-def]
    seed(graph)

    result = run_cli(["ingest", "sharepoint", "--database-url", database_url], graph_env(graph))

    assert result.exit_code == 0, result.output
    assert "sharepoint: summary" in result.output and len(cli_store.documents) == 4


def test_cli_exits_non_zero_on_refused_credentials(
    database_url: str, graph: FakeGraph, cli_store: RecordingStore, run_cli
) -> None:  # type: ignore[no-untyped-def]
    env = graph_env(graph) | {"SHAREPOINT_CLIENT_SECRET": "s3cr3t-wrong"}

    result = run_cli(["ingest", "sharepoint", "--database-url", database_url], env)

    assert result.exit_code == 1
    assert "error: sharepoint: Graph token refused (invalid_client" in " ".join(result.stderr.split())
    assert "s3cr3t-wrong" not in result.output + result.stderr


def test_cli_exits_non_zero_when_not_configured(sqlite_url: str, run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(["ingest", "sharepoint", "--database-url", sqlite_url], {"SHAREPOINT_TENANT_ID": "t"})

    assert result.exit_code == 1
    assert "set SHAREPOINT_CLIENT_ID, SHAREPOINT_CLIENT_SECRET, SHAREPOINT_DRIVE_ID" in " ".join(
        result.stderr.split()
    )
