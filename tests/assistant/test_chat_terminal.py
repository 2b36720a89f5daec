"""`skillmatch chat` as a user sees it: complete answers when a stream breaks, status lines on lines of their
own, one line when a provider failed over, no log noise, and a quick exit when Langfuse hangs."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from assistant.cli import app
from tests.fakes.langfuse_server import FakeLangfuse, forget_langfuse
from tests.fakes.openai_server import FakeOpenAI

MAIL = "max.muster@example.com"


@pytest.fixture
def langfuse_keys() -> Iterator[dict[str, str]]:
    public_key = f"pk-lf-chat-{uuid.uuid4().hex[:10]}"
    yield {"LANGFUSE_PUBLIC_KEY": public_key, "LANGFUSE_SECRET_KEY": "sk-lf-test"}
    forget_langfuse(public_key)


def chat(
    sample_db_url: str, tmp_path: Path, lines: list[str], *, primary: FakeOpenAI, **env: str
) -> tuple[Result, str]:
    """Runs the chat on the sample data with `lines` piped in; returns the result and the log file's text."""
    log_file = tmp_path / "chat.log"
    environment = {
        "OPENAI_API_KEY": primary.api_key,
        "OPENAI_BASE_URL": primary.base_url,
        "SKILLMATCH_LLM_PROVIDERS": "openai",
        "SKILLMATCH_LOG_FILE": str(log_file),
        "COLUMNS": "120",
        **env,
    }
    result = CliRunner().invoke(
        app,
        ["chat", "--database-url", sample_db_url],
        input="".join(f"{line}\n" for line in lines),
        env=environment,
    )
    return result, log_file.read_text() if log_file.exists() else ""


def search(query: str) -> dict[str, Any]:
    return {"name": "search_candidates", "arguments": json.dumps({"query": query})}


def test_a_broken_stream_shows_a_complete_marked_answer_with_the_candidates(
    sample_db_url: str, tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue_reply("Let me search.", tool_calls=[search("Kubernetes migration bank")])
    fake_openai.enqueue_reply("Anna Schmidt fits best: she led a migration.", broken_after=3)
    fake_openai.enqueue_reply("Anna Schmidt fits best: she led a migration.", broken_after=2)
    result, _ = chat(
        sample_db_url, tmp_path, ["Who could lead a Kubernetes migration for a bank?"], primary=fake_openai
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert "The language model's answer broke off" in out  # clearly marked
    assert "Anna Schmidt" in out and "Christian Lorenz" in out  # the search answer's candidates
    assert re.search(r"^\S*Searching CVs", out, re.MULTILINE)  # the status line starts a line
    assert "search.Searching" not in out and "Anna Schmidt fits Searching" not in out
    answer_start = out.index("The language model's answer broke off")
    assert "fits best" not in out[answer_start:]  # no fragment inside the answer


def test_a_stream_broken_and_retried_shows_the_whole_retried_answer(
    sample_db_url: str, tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    fake_openai.enqueue_reply("Let me search.", tool_calls=[search("Kubernetes migration bank")])
    fake_openai.enqueue_reply("Anna Schmidt fits best: she led a migration.", broken_after=3)
    fake_openai.enqueue_reply("Anna Schmidt fits best: she led a migration.")
    result, _ = chat(
        sample_db_url, tmp_path, ["Who could lead a Kubernetes migration for a bank?"], primary=fake_openai
    )
    assert result.exit_code == 0, result.output
    tail = result.output[result.output.rindex("Anna Schmidt fits best") :]
    assert tail.startswith("Anna Schmidt fits best: she led a migration.")
    assert "broke off" in result.output  # the void fragment above it is marked as such
    assert "Anna Schmidt" in tail[len("Anna Schmidt fits best") :]  # the candidates table follows


def test_log_noise_stays_out_of_the_terminal_and_a_failover_is_one_line(
    sample_db_url: str, tmp_path: Path, fake_openai: FakeOpenAI, backup_openai: FakeOpenAI
) -> None:
    error = {"error": {"message": f"overloaded, sorry {MAIL}", "type": "server_error"}}
    fake_openai.fail_next(500, times=2, body=json.dumps(error).encode())
    backup_openai.enqueue_reply("Daniel Koch runs Prometheus at scale.")
    result, log = chat(
        sample_db_url,
        tmp_path,
        ["SRE with Prometheus"],
        primary=fake_openai,
        SKILLMATCH_LLM_PROVIDERS="openai,vllm",
        VLLM_BASE_URL=backup_openai.base_url,
        VLLM_MODEL="qwen2.5-7b",
        VLLM_API_KEY=backup_openai.api_key,
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Daniel Koch runs Prometheus at scale." in out
    assert out.count("OpenAI unavailable (HTTP 500), answered by vLLM") == 1
    for noise in ("Error code", "LLM provider", "retrying", "Traceback", "WARNING", MAIL):
        assert noise not in out, noise
    assert "LLM provider openai failed" in log and "[email]" in log and MAIL not in log


def test_chat_exits_quickly_when_langfuse_hangs_and_says_so_once(
    sample_db_url: str,
    tmp_path: Path,
    fake_openai: FakeOpenAI,
    fake_langfuse: FakeLangfuse,
    langfuse_keys: dict[str, str],
) -> None:
    fake_langfuse.hang_next(60, times=None)
    fake_openai.enqueue_reply("Daniel Koch.")
    started = time.monotonic()
    result, log = chat(
        sample_db_url,
        tmp_path,
        ["SRE with Prometheus"],
        primary=fake_openai,
        LANGFUSE_BASE_URL=fake_langfuse.origin,
        SKILLMATCH_TRACE_EXPORT_TIMEOUT="30",  # without the bound, the exit would wait for this
        SKILLMATCH_TRACE_FLUSH_TIMEOUT="0.5",
        **langfuse_keys,
    )
    elapsed = time.monotonic() - started
    assert result.exit_code == 0, result.output
    assert "Daniel Koch." in result.output
    assert result.output.count("could not be sent to Langfuse (no answer within 0.5 s)") == 1
    assert elapsed < 20  # start-up, one turn and the bounded exit; an unbounded one takes 30 s or more
    assert "Traceback" not in result.output and "Failed to export" not in result.output
    assert "Langfuse" in log  # the details are in the log file


def test_an_unwritable_log_file_neither_breaks_the_chat_nor_lands_in_the_terminal(
    sample_db_url: str, tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    fake_openai.fail_next(500)  # one warning to log
    fake_openai.enqueue_reply("Daniel Koch.")
    result, _ = chat(
        sample_db_url,
        tmp_path,
        ["SRE with Prometheus"],
        primary=fake_openai,
        SKILLMATCH_LOG_FILE=str(blocker / "chat.log"),
    )
    assert result.exit_code == 0, result.output
    assert "Daniel Koch." in result.output
    assert "LLM provider" not in result.output and "Logging error" not in result.output
