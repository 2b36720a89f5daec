"""One ticket through the real Jira client against the fake Jira: one comment, kept current, never two;
dry runs write nothing; an unchanged ticket costs no model call; bad model output and outages fall back."""

from __future__ import annotations

import copy
import shutil
from datetime import date
from pathlib import Path

from sqlalchemy import delete, select

from assistant.jobs.comment import MARKER, PROPERTY
from assistant.jobs.run import run_ticket
from skillmatch.availability import availability_details
from skillmatch.db import session_scope
from skillmatch.models import Allocation, LlmCall, Person
from tests.fakes.jira import FakeJira, adf, adf_problem
from tests.fakes.openai_server import FakeOpenAI
from tests.jobs.conftest import PERIOD, day, job_settings, model_reading, openai_env, request_ticket

JAVA = "Senior Java developer for an insurance portal"
JAVA_TEXT = "We need a senior Java developer with Spring Boot and Kafka for the claims portal."
READING = {"role": "Java developer", "skills": ["java", "spring boot", "kafka"], "seniority": "senior"}


def bot_comment(jira: FakeJira, key: str) -> dict:
    comments = jira.bot_comments(key)
    assert len(comments) == 1, f"expected exactly one comment by the bot on {key}, got {len(comments)}"
    return comments[0]


async def test_a_dry_run_renders_the_comment_and_writes_nothing(sample_db_url, jira, make_job) -> None:
    jira.add_issues([request_ticket("STAFF-1", JAVA, JAVA_TEXT)])
    async with make_job(job_settings(sample_db_url, jira)) as job:
        report = await run_ticket(job, "STAFF-1", options=job.options(dry_run=True))
        stored = job.store.read("STAFF-1")
    [outcome] = report.outcomes
    assert (outcome.action, outcome.dry_run, report.exit_code) == ("posted", True, 0)
    assert outcome.comment is not None and "Jens Hoffmann" in outcome.comment.text
    assert (
        jira.writes() == [] and jira.comments_on("STAFF-1") == [] and jira.properties.get("STAFF-1") is None
    )
    assert stored is None  # nothing remembered either: a dry run leaves no trace but the ledger


async def test_the_first_run_posts_one_comment_and_a_rerun_of_an_unchanged_ticket_writes_nothing(
    sample_db_url, jira, make_job
) -> None:
    jira.add_issues([request_ticket("STAFF-1", JAVA, JAVA_TEXT)])
    settings = job_settings(sample_db_url, jira)
    async with make_job(settings) as job:
        first = await run_ticket(job, "STAFF-1", options=job.options())
    comment = bot_comment(jira, "STAFF-1")
    assert first.outcomes[0].action == "posted" and first.outcomes[0].comment_id == comment["id"]
    assert adf_problem(comment["body"]) is None
    text = first.outcomes[0].comment.text
    assert "Jens Hoffmann" in text and MARKER in text and f"from {PERIOD[0]} to {PERIOD[1]}" in text
    assert jira.properties["STAFF-1"][PROPERTY]["commentId"] == comment["id"]

    jira.clear_requests()
    async with make_job(settings) as job:
        second = await run_ticket(job, "STAFF-1", options=job.options())
    assert second.outcomes[0].action == "unchanged" and second.exit_code == 0
    assert jira.writes() == []
    assert len(jira.bot_comments("STAFF-1")) == 1


async def test_an_unchanged_ticket_costs_no_model_call(sample_db_url, jira, fake_openai, make_job) -> None:
    jira.add_issues([request_ticket("STAFF-1", JAVA, JAVA_TEXT)])
    fake_openai.enqueue_reply(model_reading(**READING), usage={"prompt_tokens": 420, "completion_tokens": 60})
    settings = job_settings(sample_db_url, jira, **openai_env(fake_openai))
    async with make_job(settings) as job:
        first = await run_ticket(job, "STAFF-1", options=job.options())
        second = await run_ticket(job, "STAFF-1", options=job.options())
        with job.sessions() as session:
            ledger = session.scalars(select(LlmCall)).all()
    assert [o.action for o in first.outcomes + second.outcomes] == ["posted", "unchanged"]
    assert first.outcomes[0].extractor == "model" and first.llm_calls == 1 and second.llm_calls == 0
    assert len(fake_openai.chat_requests()) == 1
    [row] = ledger
    assert (row.trace_id, row.session_id, row.status) == (first.trace_id, "jira:STAFF-1", "ok")
    assert (row.tokens_in, row.tokens_out) == (420, 60)
    assert "Java developer; skills java, spring boot, kafka; senior" in first.outcomes[0].comment.text


async def test_a_changed_ticket_updates_the_same_comment(sample_db_url, jira, make_job) -> None:
    jira.add_issues([request_ticket("STAFF-1", JAVA, JAVA_TEXT)])
    settings = job_settings(sample_db_url, jira)
    async with make_job(settings) as job:
        await run_ticket(job, "STAFF-1", options=job.options())
    posted = copy.deepcopy(bot_comment(jira, "STAFF-1"))
    jira.update_issue(
        "STAFF-1",
        summary="React developer for an online shop",
        description=adf("Frontend work with React and TypeScript."),
    )
    async with make_job(settings) as job:
        report = await run_ticket(job, "STAFF-1", options=job.options())
    updated = bot_comment(jira, "STAFF-1")
    assert report.outcomes[0].action == "updated" and updated["id"] == posted["id"]
    assert "react" in report.outcomes[0].comment.text.lower() and updated["body"] != posted["body"]
    [put] = [r for r in jira.comment_writes() if r.method == "PUT"]
    assert put.param("notifyUsers") == "false"  # a refreshed answer does not mail every watcher


async def test_new_erp_data_updates_the_comment_without_asking_the_model_again(
    sample_db_url, jira, fake_openai, make_job
) -> None:
    jira.add_issues([request_ticket("STAFF-1", JAVA, JAVA_TEXT)])
    fake_openai.enqueue_reply(model_reading(**READING))
    settings = job_settings(sample_db_url, jira, **openai_env(fake_openai))
    async with make_job(settings) as job:
        first = await run_ticket(job, "STAFF-1", options=job.options())
        # MOCO changes for a person shown: the freest one gets fully booked, or, when all of them are
        # booked already, one of them is released.
        free = [
            n for n in _names(first.outcomes[0].comment.text) if f"{n} — " in first.outcomes[0].comment.text
        ]
        with session_scope(job.sessions) as session:
            people = {p.name: p for p in session.scalars(select(Person))}
            shares = availability_details(
                session, day(PERIOD[0]), day(PERIOD[1]), [people[n].id for n in free]
            )
            known = [n for n in free if people[n].id in shares]  # CVs without ERP data have no share
            assert known
            freest = max(known, key=lambda n: shares[people[n].id].share_free)
            if shares[people[freest].id].share_free > 0:
                session.add(book(people[freest], 8.0, moco_id=990001))
            else:
                session.execute(delete(Allocation).where(Allocation.person_id == people[freest].id))
        second = await run_ticket(job, "STAFF-1", options=job.options())
    assert first.outcomes[0].action == "posted" and second.outcomes[0].action == "updated"
    assert f"{freest} — " in second.outcomes[0].comment.text
    assert second.outcomes[0].comment.text != first.outcomes[0].comment.text
    assert len(fake_openai.chat_requests()) == 1  # the stored reading was reused
    assert second.llm_calls == 0


def book(person: Person, hours: float, *, moco_id: int) -> Allocation:
    assert person.moco_user_id is not None
    return Allocation(
        id=moco_id, person_id=person.id, moco_user_id=person.moco_user_id, project_name="New booking",
        starts_on=day(PERIOD[0]), ends_on=day(PERIOD[1]), hours_per_day=hours,
    )  # fmt: skip


async def test_a_deleted_comment_is_posted_again_once_the_result_changes(
    sample_db_url, jira, make_job
) -> None:
    jira.add_issues([request_ticket("STAFF-1", JAVA, JAVA_TEXT)])
    settings = job_settings(sample_db_url, jira)
    async with make_job(settings) as job:
        await run_ticket(job, "STAFF-1", options=job.options())
        jira.delete_comment("STAFF-1", bot_comment(jira, "STAFF-1")["id"])
        unchanged = await run_ticket(job, "STAFF-1", options=job.options())
        jira.update_issue("STAFF-1", summary="Java developer with Kafka, insurance")
        changed = await run_ticket(job, "STAFF-1", options=job.options())
    assert unchanged.outcomes[0].action == "unchanged"  # a person removed it; no reason to insist
    assert changed.outcomes[0].action == "posted"
    assert len(jira.bot_comments("STAFF-1")) == 1


def fresh_copy(sample_db_template: Path, tmp_path: Path, name: str) -> str:
    target = tmp_path / name
    shutil.copy(sample_db_template, target)
    return f"sqlite:///{target}"


async def test_with_a_fresh_database_the_comment_is_found_by_its_issue_property(
    sample_db_template, tmp_path, jira, make_job
) -> None:
    jira.add_issues([request_ticket("STAFF-1", JAVA, JAVA_TEXT)])
    async with make_job(job_settings(fresh_copy(sample_db_template, tmp_path, "a.db"), jira)) as job:
        await run_ticket(job, "STAFF-1", options=job.options())
    first = bot_comment(jira, "STAFF-1")
    async with make_job(job_settings(fresh_copy(sample_db_template, tmp_path, "b.db"), jira)) as job:
        report = await run_ticket(job, "STAFF-1", options=job.options())
    assert report.outcomes[0].action == "updated" and report.outcomes[0].comment_id == first["id"]
    assert len(jira.bot_comments("STAFF-1")) == 1


async def test_without_database_or_property_the_comment_is_found_by_its_marker(
    sample_db_template, tmp_path, jira, make_job
) -> None:
    jira.add_issues([request_ticket("STAFF-1", JAVA, JAVA_TEXT)])
    async with make_job(job_settings(fresh_copy(sample_db_template, tmp_path, "a.db"), jira)) as job:
        await run_ticket(job, "STAFF-1", options=job.options())
    ours = bot_comment(jira, "STAFF-1")
    jira.properties.pop("STAFF-1")  # as if the property write had failed, or the run died before it
    jira.add_comment("STAFF-1", f"Quoting the bot: {MARKER}")  # a person's comment is never taken for ours
    async with make_job(job_settings(fresh_copy(sample_db_template, tmp_path, "b.db"), jira)) as job:
        report = await run_ticket(job, "STAFF-1", options=job.options())
    assert report.outcomes[0].action == "updated" and report.outcomes[0].comment_id == ours["id"]
    assert len(jira.bot_comments("STAFF-1")) == 1 and len(jira.comments_on("STAFF-1")) == 2


async def test_a_ticket_that_is_no_request_gets_no_guess_and_no_repeated_model_calls(
    sample_db_url, jira, fake_openai, make_job
) -> None:
    jira.add_issues(
        [
            request_ticket("STAFF-2", "", None, start=None, end=None),
            request_ticket(
                "STAFF-3", "Budget meeting notes", "Please review the budget.", start=None, end=None
            ),
        ]
    )
    fake_openai.enqueue_reply(model_reading(usable=False, missing=["role or skills", "period"]))
    settings = job_settings(sample_db_url, jira, **openai_env(fake_openai))
    async with make_job(settings) as job:
        empty = await run_ticket(job, "STAFF-2", options=job.options())
        notes = await run_ticket(job, "STAFF-3", options=job.options())
        again = await run_ticket(job, "STAFF-3", options=job.options())
    assert [r.outcomes[0].action for r in (empty, notes, again)] == ["unusable"] * 3
    assert all(r.exit_code == 0 for r in (empty, notes, again))
    assert "missing summary, description" in empty.outcomes[0].detail
    assert "role or skills" in notes.outcomes[0].detail
    assert len(fake_openai.chat_requests()) == 1  # the empty ticket is never sent; the other only once
    assert jira.writes() == []


async def test_asking_for_missing_details_is_configurable_and_the_same_comment_later_answers(
    sample_db_url, jira, make_job
) -> None:
    jira.add_issues(
        [request_ticket("STAFF-3", "Budget meeting notes", "Please review.", start=None, end=None)]
    )
    settings = job_settings(sample_db_url, jira, SKILLMATCH_JIRA_ASK_FOR_DETAILS="true")
    async with make_job(settings) as job:
        asked = await run_ticket(job, "STAFF-3", options=job.options())
        jira.update_issue("STAFF-3", summary=JAVA, description=adf(JAVA_TEXT))
        answered = await run_ticket(job, "STAFF-3", options=job.options())
    assert asked.outcomes[0].action == "posted" and asked.outcomes[0].kind == "missing_details"
    assert "the role or the skills needed" in asked.outcomes[0].comment.text
    assert "the period: start and end date" in asked.outcomes[0].comment.text
    assert answered.outcomes[0].action == "updated" and answered.outcomes[0].kind == "suggestions"
    assert answered.outcomes[0].comment_id == asked.outcomes[0].comment_id
    assert len(jira.bot_comments("STAFF-3")) == 1


async def test_available_only_lists_only_people_moco_shows_free_in_the_period(
    sample_db_url, jira, make_job
) -> None:
    jira.add_issues([request_ticket("STAFF-1", JAVA, JAVA_TEXT)])
    settings = job_settings(sample_db_url, jira)
    start, end = day(PERIOD[0]), day(PERIOD[1])
    async with make_job(settings) as job:
        everyone = await run_ticket(job, "STAFF-1", options=job.options(dry_run=True))
        hotlist = await run_ticket(job, "STAFF-1", options=job.options(available_only=True))
        names = _names(hotlist.outcomes[0].comment.text)
        with job.sessions() as session:
            people = {p.name: p.id for p in session.scalars(select(Person))}
            free = availability_details(session, start, end, [people[n] for n in names])
        assert names and all(free[people[n]].share_free >= 0.5 for n in names)
        assert "Jens Hoffmann" in everyone.outcomes[0].comment.text and "Jens Hoffmann" not in names
        for name in names:  # the comment shows what MOCO says
            assert f"{round(free[people[name]].share_free * 100)} % free" in hotlist.outcomes[0].comment.text
        # The first person listed gets fully booked in MOCO: the next run drops them from the comment.
        with session_scope(job.sessions) as session:
            session.add(book(session.get(Person, people[names[0]]), 8.0, moco_id=990002))
        rerun = await run_ticket(job, "STAFF-1", options=job.options(available_only=True))
    assert rerun.outcomes[0].action == "updated" and names[0] not in _names(rerun.outcomes[0].comment.text)
    assert "only people with at least 50 % free are listed" in rerun.outcomes[0].comment.text


def _names(comment_text: str) -> list[str]:
    return [
        line[2:].split(" — ")[0]
        for line in comment_text.splitlines()
        if line.startswith("- ") and " — " in line
    ]


async def test_model_output_that_is_not_the_json_asked_for_falls_back_to_the_parser_once(
    sample_db_url, jira, fake_openai, make_job
) -> None:
    jira.add_issues([request_ticket("STAFF-1", JAVA, JAVA_TEXT)])
    fake_openai.enqueue_reply("Sure! The ticket wants {role: Java developer} — hope that helps.")
    settings = job_settings(sample_db_url, jira, **openai_env(fake_openai))
    async with make_job(settings) as job:
        first = await run_ticket(job, "STAFF-1", options=job.options())
        second = await run_ticket(job, "STAFF-1", options=job.options())
    outcome = first.outcomes[0]
    assert outcome.action == "posted" and outcome.extractor == "parser" and outcome.llm_calls == 1
    assert "The language model's reading was not usable (not JSON" in outcome.comment.text
    assert "Jens Hoffmann" in outcome.comment.text
    assert second.outcomes[0].action == "unchanged" and len(fake_openai.chat_requests()) == 1


async def test_a_model_outage_falls_back_and_the_next_run_asks_the_model_again(
    sample_db_url, jira, fake_openai: FakeOpenAI, make_job
) -> None:
    jira.add_issues([request_ticket("STAFF-1", JAVA, JAVA_TEXT)])
    fake_openai.fail_next(503, times=None, match="/chat/completions")
    settings = job_settings(sample_db_url, jira, **openai_env(fake_openai))
    async with make_job(settings) as job:
        down = await run_ticket(job, "STAFF-1", options=job.options())
        fake_openai.clear_faults()
        fake_openai.enqueue_reply(model_reading(**READING))
        back = await run_ticket(job, "STAFF-1", options=job.options())
        with job.sessions() as session:
            statuses = [row.status for row in session.scalars(select(LlmCall).order_by(LlmCall.id))]
    assert down.outcomes[0].action == "posted" and down.outcomes[0].extractor == "parser"
    assert "The language model was unavailable" in down.outcomes[0].comment.text
    assert back.outcomes[0].action == "updated" and back.outcomes[0].extractor == "model"
    assert statuses == ["failed", "ok"]
    assert len(jira.bot_comments("STAFF-1")) == 1


async def test_contact_details_in_a_ticket_never_reach_the_model(
    sample_db_url, jira, fake_openai, make_job
) -> None:
    text = f"{JAVA_TEXT} Questions to max.muster@example.com or +49 171 5550123."
    jira.add_issues([request_ticket("STAFF-1", JAVA, text)])
    fake_openai.enqueue_reply(model_reading(**READING))
    async with make_job(job_settings(sample_db_url, jira, **openai_env(fake_openai))) as job:
        await run_ticket(job, "STAFF-1", options=job.options())
    sent = fake_openai.chat_requests()[0].body.decode()
    assert "max.muster@example.com" not in sent and "5550123" not in sent and "[email]" in sent


async def test_a_ticket_that_does_not_exist_fails_with_a_clear_reason(sample_db_url, jira, make_job) -> None:
    async with make_job(job_settings(sample_db_url, jira)) as job:
        report = await run_ticket(job, "STAFF-404", options=job.options())
    assert report.exit_code == 1
    assert report.outcomes[0].detail == "not found, or not visible to the Jira user"


def test_dates_used_here_are_working_days() -> None:
    # The sample's bookings are read for this window; a change to it should be deliberate.
    assert date.fromisoformat(PERIOD[0]).weekday() == 0 and date.fromisoformat(PERIOD[1]).weekday() == 4
