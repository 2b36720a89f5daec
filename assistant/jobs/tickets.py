"""Per-ticket memory of the staffing jobs (table `jira_tickets`) and the lease that keeps two runs from
posting two comments.

Protocol. A run that has something to write takes the ticket's lease: one short transaction inserts the row
if needed and sets (owner, expiry) with a conditional UPDATE that only succeeds when the lease is free,
expired, or already its own; the row count says who won (PostgreSQL re-checks the condition after a
concurrent writer commits, SQLite serialises writers). Between transactions nothing is held: the model call
and the Jira calls run with no database connection checked out. Right before writing the comment the
holder renews the lease, again conditionally, and gives up if it lost it; afterwards one transaction
stores the result and releases the lease.

Crash cases. A holder that dies leaves a lease that expires after SKILLMATCH_JIRA_LEASE_SECONDS; the next
run takes over. If it died after posting but before storing the comment id, the next run finds the comment
by its issue property or its marker and updates it (see process.py). The remaining double-write window is a
holder that stalls longer than the lease between its renewal and its POST — the lease is sized for minutes,
the POST takes milliseconds. Expiry uses each host's clock (UTC), so clock skew must stay well below it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from skillmatch.db import insert_ignoring_conflicts, session_scope
from skillmatch.models import JiraTicket

if TYPE_CHECKING:
    from assistant.jobs.constraints import Constraints
    from assistant.jobs.requests import TicketRequest

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class TicketState:
    issue_key: str
    input_hash: str | None
    constraints: dict[str, Any] | None
    result_hash: str | None
    comment_id: str | None


class TicketStore:
    def __init__(self, sessions: sessionmaker[Session], *, clock: Clock = utc_now) -> None:
        self.sessions = sessions
        self.clock = clock

    def read(self, key: str) -> TicketState | None:
        with self.sessions() as session:
            row = session.get(JiraTicket, key)
            if row is None:
                return None
            return TicketState(
                row.issue_key, row.input_hash, row.constraints, row.result_hash, row.comment_id
            )

    # -- the lease --

    def acquire(self, key: str, owner: str, seconds: float) -> bool:
        """Take the ticket's lease unless another live owner holds it."""
        now = self.clock()
        with session_scope(self.sessions) as session:
            insert_ignoring_conflicts(session, JiraTicket, [{"issue_key": key, "updated_at": now}])
            result = session.execute(
                update(JiraTicket)
                .where(
                    JiraTicket.issue_key == key,
                    or_(
                        JiraTicket.lease_owner.is_(None),
                        JiraTicket.lease_expires_at.is_(None),
                        JiraTicket.lease_expires_at < now,
                        JiraTicket.lease_owner == owner,
                    ),
                )
                .values(lease_owner=owner, lease_expires_at=now + timedelta(seconds=seconds))
                .execution_options(synchronize_session=False)
            )
            return result.rowcount == 1  # type: ignore[attr-defined]

    def renew(self, key: str, owner: str, seconds: float) -> bool:
        """Extend our lease; False when it expired or someone else took it (then do not write)."""
        now = self.clock()
        with session_scope(self.sessions) as session:
            result = session.execute(
                update(JiraTicket)
                .where(
                    JiraTicket.issue_key == key,
                    JiraTicket.lease_owner == owner,
                    JiraTicket.lease_expires_at >= now,
                )
                .values(lease_expires_at=now + timedelta(seconds=seconds))
                .execution_options(synchronize_session=False)
            )
            return result.rowcount == 1  # type: ignore[attr-defined]

    def release(self, key: str, owner: str) -> None:
        with session_scope(self.sessions) as session:
            session.execute(
                update(JiraTicket)
                .where(JiraTicket.issue_key == key, JiraTicket.lease_owner == owner)
                .values(lease_owner=None, lease_expires_at=None)
                .execution_options(synchronize_session=False)
            )

    # -- what was read and posted --

    def save(
        self,
        key: str,
        *,
        input_hash: str | None,
        constraints: dict[str, Any] | None,
        result_hash: str | None = None,
        comment_id: str | None = None,
        keep_result: bool = False,
    ) -> None:
        """Remember the reading (and, unless `keep_result`, the posted result and its comment)."""
        values: dict[str, Any] = {
            "input_hash": input_hash,
            "constraints": constraints,
            "updated_at": self.clock(),
        }
        if not keep_result:
            values |= {"result_hash": result_hash, "comment_id": comment_id}
        with session_scope(self.sessions) as session:
            insert_ignoring_conflicts(session, JiraTicket, [{"issue_key": key, "updated_at": self.clock()}])
            session.execute(
                update(JiraTicket)
                .where(JiraTicket.issue_key == key)
                .values(**values)
                .execution_options(synchronize_session=False)
            )

    def leases(self) -> list[tuple[str, str | None, datetime | None]]:
        """(key, owner, expiry) of every ticket row; for operators and tests."""
        with self.sessions() as session:
            rows = session.execute(
                select(JiraTicket.issue_key, JiraTicket.lease_owner, JiraTicket.lease_expires_at)
            )
            return [(k, o, e) for k, o, e in rows]


def stored_constraints(sessions: sessionmaker[Session], request: TicketRequest) -> Constraints | None:
    """What a job understood of this ticket, if the ticket has not changed since (either reader)."""
    from assistant.jobs.constraints import Constraints

    state = TicketStore(sessions).read(request.key)
    if state is None or state.constraints is None or state.input_hash is None:
        return None
    if state.input_hash not in (request.input_hash("model"), request.input_hash("parser")):
        return None
    return Constraints.model_validate(state.constraints)
