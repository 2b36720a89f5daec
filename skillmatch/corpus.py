"""The corpus version: bumped on every change so each replica knows when its in-memory index is stale."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from skillmatch.db import insert_ignoring_conflicts
from skillmatch.models import CorpusVersion, utcnow


def bump_corpus_version(session: Session) -> None:
    insert_ignoring_conflicts(session, CorpusVersion, [{"id": 1, "version": 0, "updated_at": utcnow()}])
    session.execute(
        update(CorpusVersion)
        .where(CorpusVersion.id == 1)
        .values(version=CorpusVersion.version + 1, updated_at=utcnow())
    )


def corpus_version(session: Session) -> int:
    return session.scalar(select(CorpusVersion.version).where(CorpusVersion.id == 1)) or 0
