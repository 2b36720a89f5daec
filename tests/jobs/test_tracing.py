"""Traces of the jobs, as the real Langfuse SDK exports them to the fake Langfuse: one trace per run named
after the job, a span per ticket with the session id `jira:{KEY}`, the model call a generation inside it,
contact details masked."""

from __future__ import annotations

from assistant.jobs.run import run_board, run_ticket
from tests.fakes.langfuse_server import FakeLangfuse
from tests.jobs.conftest import job_settings, model_reading, openai_env, request_ticket

EMAIL = "petra.planer@example.com"


async def test_a_board_run_is_one_trace_with_a_span_and_a_generation_per_ticket(
    sample_db_url, jira, fake_openai, fake_langfuse: FakeLangfuse, make_job
) -> None:
    jira.add_issues(
        [
            request_ticket("STAFF-1", "Java developer", f"Spring Boot and Kafka. Contact {EMAIL}."),
            request_ticket("STAFF-2", "Scrum Master", "For an insurer."),
        ]
    )
    fake_openai.responder = lambda body: model_reading(role="Java developer", skills=["java"])
    settings = job_settings(sample_db_url, jira, **openai_env(fake_openai))
    async with make_job(settings, tracing=True) as job:
        report = await run_board(job, project="STAFF", options=job.options())
    # aclose() flushed: everything is at the fake now, no waiting.

    [root] = fake_langfuse.spans_named("process_jira_board")
    assert root.trace_id == report.trace_id and root.is_root and root.trace_name == "process_jira_board"
    tickets = fake_langfuse.spans_named("jira.ticket")
    assert sorted(t.session_id for t in tickets) == ["jira:STAFF-1", "jira:STAFF-2"]
    assert all(t.parent_span_id == root.span_id and t.trace_id == root.trace_id for t in tickets)
    generations = fake_langfuse.spans_of_type("generation")
    assert len(generations) == 2 and {g.name for g in generations} == {"jira.read_request"}
    by_span = {t.span_id: t for t in tickets}
    for generation in generations:  # inside its ticket's span, in its ticket's session
        assert by_span[generation.parent_span_id].session_id == generation.session_id
    searches = fake_langfuse.spans_named("jira.search")
    assert len(searches) == 2 and all(s.observation_type == "retriever" for s in searches)
    assert all(EMAIL not in str(s.input) for s in fake_langfuse.spans)
    assert any("[email]" in str(g.input) for g in generations)
    assert root.output["posted"] == 2 and root.output["llm_calls"] == 2


async def test_a_ticket_run_is_a_trace_in_the_tickets_session(
    sample_db_url, jira, fake_langfuse: FakeLangfuse, make_job
) -> None:
    jira.add_issues([request_ticket("STAFF-7", "Java developer", "Spring Boot.")])
    async with make_job(job_settings(sample_db_url, jira), tracing=True) as job:
        first = await run_ticket(job, "STAFF-7", options=job.options())
        second = await run_ticket(job, "STAFF-7", options=job.options())
    roots = fake_langfuse.spans_named("process_jira_ticket")
    assert sorted(r.trace_id for r in roots) == sorted([first.trace_id, second.trace_id])
    assert all(r.session_id == "jira:STAFF-7" for r in roots)
    outputs = sorted(r.output.get("posted", 0) + 10 * r.output.get("unchanged", 0) for r in roots)
    assert outputs == [1, 10]  # posted once, then unchanged
    assert fake_langfuse.spans_of_type("generation") == []  # no model configured: read by rules
