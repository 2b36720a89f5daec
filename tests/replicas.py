"""Real `skillmatch serve` processes for tests and benchmarks: start, wait until ready, SIGKILL, restart.

Each replica is a separate OS process with its own environment (built from scratch: nothing from the
developer's shell leaks in), listening on its own port on 127.0.0.1, logging to its own file.

    replica = Replica("a", env)
    replica.start()
    await replica.wait_ready()
    replica.kill()        # SIGKILL, as the OOM killer or a node failure would
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import Engine, create_engine, text

from skillmatch.db import upgrade
from tests.fakes import slack_events as ev

SKILLMATCH = str(Path(sys.executable).with_name("skillmatch"))


@contextlib.contextmanager
def fresh_postgres_schema(prefix: str = "t") -> Iterator[str]:
    """A new, migrated schema on the test PostgreSQL server (its URL), dropped afterwards."""
    from tests.conftest import POSTGRES_URL, postgres_schema_url

    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = postgres_schema_url(schema)
        engine = create_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def base_env(**overrides: str) -> dict[str, str]:
    """A minimal environment: PATH and HOME, then the settings a test gives."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}
    env.update({"PYTHONUNBUFFERED": "1", "LANGFUSE_TRACING_ENABLED": "false"})
    env.update(overrides)
    return env


def serve_env(database_url: str, slack_api_url: str, openai: Any, **settings: str) -> dict[str, str]:
    """`skillmatch serve` for the fake Slack and the fake model (`FakeOpenAI`), plus `settings`."""
    return base_env(
        DATABASE_URL=database_url,
        SLACK_BOT_TOKEN=ev.BOT_TOKEN,
        SLACK_SIGNING_SECRET=ev.SIGNING_SECRET,
        SLACK_API_BASE_URL=slack_api_url,
        OPENAI_API_KEY=openai.api_key,
        OPENAI_BASE_URL=openai.base_url,
        SKILLMATCH_LLM_PROVIDERS="openai",
        **settings,
    )


@dataclass
class Replica:
    name: str
    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None, f"{self.name} is running"
        log = self.log_path.open("ab")
        self.started_at = time.monotonic()
        self.process = subprocess.Popen(
            [SKILLMATCH, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    async def wait_ready(self, timeout: float = 60.0) -> float:  # noqa: ASYNC109 - a bounded wait
        """Seconds from start() until /readyz answered 200."""
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log()}")
                try:
                    async with session.get(f"{self.url}/readyz") as response:
                        if response.status == 200:
                            return time.monotonic() - self.started_at
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
        raise TimeoutError(f"{self.name} not ready within {timeout}s:\n{self.log()}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def terminate(self, timeout: float = 30.0) -> int | None:
        """SIGTERM (what Kubernetes sends first) and wait; SIGKILL if it does not stop in time."""
        if self.process is None or self.process.poll() is not None:
            return None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def peak_rss_mb(self) -> float | None:
        """Peak resident memory (VmHWM) of the running process, from /proc."""
        if self.process is None or self.process.poll() is not None:
            return None
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return None


def lease_owner_pid(engine: Engine, thread_key: str) -> int | None:
    """The pid in the lease owner of a conversation (`host:pid:random`), if somebody holds it."""
    with engine.connect() as conn:
        owner = conn.execute(
            text("select lease_owner from conversations where thread_key = :k"), {"k": thread_key}
        ).scalar()
    if not owner:
        return None
    return int(str(owner).split(":")[1])


async def post_event(session: aiohttp.ClientSession, replica: Replica, body: str, **sign_kw: Any) -> int:
    """A signed Slack event to a replica; the HTTP status."""
    headers = ev.sign(body, ev.SIGNING_SECRET, **sign_kw)
    async with session.post(f"{replica.url}/slack/events", data=body.encode(), headers=headers) as response:
        await response.read()
        return response.status


async def wait_until(
    predicate: Callable[[], bool],
    timeout: float = 60.0,  # noqa: ASYNC109 - a bounded poll, not a cancellation scope
    what: str = "condition",
) -> float:
    """Poll a condition on shared state (a fake's records, the database); seconds it took."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{what} not reached within {timeout}s")
        await asyncio.sleep(0.05)
    return time.monotonic() - started
