"""The CV index: add, update or remove one document (from a folder or from SharePoint).

Idempotent by content hash: unchanged bytes cost one hash and one lookup; changed bytes are re-parsed and
re-chunked, and only chunk texts never seen before are embedded (see embeddings.EmbeddingCache). A new
version that cannot be read leaves the previous one indexed: nothing is lost to a bad upload.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import PurePath
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from skillmatch.chunking import ChunkDraft, chunk_cv
from skillmatch.config import Settings
from skillmatch.corpus import bump_corpus_version
from skillmatch.cvparse import ParsedCv, parse_cv
from skillmatch.documents import UnreadableDocument, read_document
from skillmatch.embeddings import Embedder, EmbeddingCache
from skillmatch.models import Chunk, CvDocument, Person
from skillmatch.people import CvIdentity, resolve_cv
from skillmatch.text.lexicon import get_lexicon

Outcome = Literal["added", "updated", "unchanged", "failed"]
SOURCE_MAX_CHARS = 1000  # the width of cv_documents.source


@dataclass(frozen=True)
class UpsertResult:
    source: str
    outcome: Outcome
    reason: str | None = None  # why it failed, in words a user understands
    person_name: str | None = None
    chunks: int = 0
    embedded: int = 0  # chunk texts that needed a new embedding
    notes: tuple[str, ...] = ()  # remarks that are not failures: library warnings, identity decisions


@dataclass(frozen=True)
class DocumentInput:
    source: str
    source_kind: str
    display_name: str
    data: bytes
    modified_at: datetime | None = None
    web_url: str | None = None


@dataclass(frozen=True)
class PreparedDocument:
    """Parsed and chunked, not yet stored."""

    item: DocumentInput
    digest: str
    text: str
    media_type: str
    cv: ParsedCv
    drafts: list[ChunkDraft]
    warnings: tuple[str, ...] = ()


def _chunked(items: Iterable[DocumentInput], size: int) -> Iterator[list[DocumentInput]]:
    group: list[DocumentInput] = []
    for item in items:
        group.append(item)
        if len(group) >= size:
            yield group
            group = []
    if group:
        yield group


def content_hash(data: bytes) -> str:
    """The file's bytes and the vocabulary they are indexed with: after the lexicon changes (a new company
    term in SKILLMATCH_LEXICON_FILE, a new release), the next ingestion reads every CV again."""
    return hashlib.sha256(data + b"\0vocabulary:" + get_lexicon().fingerprint.encode()).hexdigest()


def name_from_file(display_name: str) -> str | None:
    """`cv_jens_hoffmann.docx` -> `Jens Hoffmann`: the last resort when the CV names nobody."""
    stem = PurePath(display_name).stem
    words = [w for w in re.split(r"[\s_\-.]+", stem) if w and w.lower() not in {"cv", "lebenslauf", "resume"}]
    words = [w for w in words if w.isalpha()]
    return " ".join(w.capitalize() for w in words) if len(words) >= 2 else None


class CvStore:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        embedder: Embedder,
        settings: Settings,
        *,
        today: date | None = None,
    ):
        self.sessions = sessions
        self.cache = EmbeddingCache(embedder)
        self.settings = settings
        self.today = today

    def fingerprints(self, prefix: str) -> dict[str, str]:
        """source -> content hash for every indexed document whose source starts with `prefix`, taken
        literally: `_` and `%` in it are characters, not SQL wildcards."""
        with self.sessions() as session:
            rows = session.execute(
                select(CvDocument.source, CvDocument.content_hash).where(
                    CvDocument.source.startswith(prefix, autoescape=True)
                )
            )
            # The comparison in Python as well: LIKE may ignore case or trailing spaces on some collations.
            return {source: digest for source, digest in rows if source.startswith(prefix)}

    def fingerprints_under(self, folder: str) -> dict[str, str]:
        """Documents anywhere below exactly this folder (not a sibling whose name merely starts alike)."""
        return self.fingerprints(folder.rstrip("/") + "/")

    def fingerprints_of(self, source: str) -> dict[str, str]:
        """The one document with exactly this source, if indexed."""
        with self.sessions() as session:
            rows = session.execute(
                select(CvDocument.source, CvDocument.content_hash).where(CvDocument.source == source)
            )
            return {found: digest for found, digest in rows if found == source}

    def known_sources(self, prefix: str) -> set[str]:
        return set(self.fingerprints(prefix))

    def upsert(
        self,
        *,
        source: str,
        source_kind: str,
        display_name: str,
        data: bytes,
        modified_at: datetime | None = None,
        web_url: str | None = None,
    ) -> UpsertResult:
        item = DocumentInput(source, source_kind, display_name, data, modified_at, web_url)
        return next(iter(self.upsert_many([item])))

    def upsert_many(self, items: Iterable[DocumentInput], batch: int = 16) -> Iterator[UpsertResult]:
        """Documents in groups: parse a group, embed all its new passages in one call (passages of similar
        length batch together across documents), then store each document in its own transaction."""
        for group in _chunked(items, batch):
            yield from self._embed_and_store(self._prepare_group(group))

    def _prepare_group(self, items: list[DocumentInput]) -> list[PreparedDocument | UpsertResult]:
        return [self._prepare(item) for item in items]

    def _embed_and_store(self, prepared: list[PreparedDocument | UpsertResult]) -> Iterator[UpsertResult]:
        texts = {
            d.text_hash: d.index_text
            for p in prepared
            if isinstance(p, PreparedDocument)
            for d in p.drafts
            if d.embedded
        }
        embedded: set[str] = set()
        if texts:
            with self.sessions() as session:
                _, embedded = self.cache.vectors(session, texts)
                session.commit()
        for p in prepared:
            yield p if isinstance(p, UpsertResult) else self._store(p, embedded)

    def _prepare(self, item: DocumentInput) -> PreparedDocument | UpsertResult:
        digest = content_hash(item.data)
        with self.sessions() as session:
            existing = session.scalar(select(CvDocument.content_hash).where(CvDocument.source == item.source))
        if existing == digest:
            return UpsertResult(item.source, "unchanged")
        try:
            extracted = read_document(
                item.display_name, item.data, self.settings.cv_max_bytes, self.settings.cv_max_text_chars
            )
        except UnreadableDocument as exc:
            reason = str(exc) + (" (the previously indexed version is kept)" if existing else "")
            return UpsertResult(item.source, "failed", reason=reason)
        today = self.today or date.today()
        cv = parse_cv(extracted.text, fallback_name=name_from_file(item.display_name), today=today)
        return PreparedDocument(
            item,
            digest,
            extracted.text,
            extracted.media_type,
            cv,
            chunk_cv(cv, today.year),
            tuple(f"while reading: {w}" for w in extracted.warnings),
        )

    def _store(self, prepared: PreparedDocument, embedded: set[str]) -> UpsertResult:
        try:
            return self._store_document(prepared, embedded)
        except SQLAlchemyError as exc:  # one document the database refuses must not end the batch
            reason = (
                f"the database refused it ({type(exc.orig or exc).__name__}: {str(exc.orig or exc)[:200]})"
            )
            return UpsertResult(prepared.item.source, "failed", reason=reason)

    def _store_document(self, prepared: PreparedDocument, embedded: set[str]) -> UpsertResult:
        item, cv, drafts = prepared.item, prepared.cv, prepared.drafts
        with self.sessions() as session:
            existing = session.scalar(select(CvDocument).where(CvDocument.source == item.source))
            previous = existing.person if existing is not None else None
            identity = CvIdentity.from_parsed(cv.name or item.display_name, cv.to_json())
            resolved = resolve_cv(
                session, identity, content_hash=prepared.digest, source=item.source, current=previous
            )
            person = resolved.person
            if resolved.created or _is_newest(session, person, item):
                # The newest CV describes the person; an older second copy does not overwrite it.
                person.location = cv.location or person.location
                person.title = cv.title or person.title
                person.seniority = cv.seniority or person.seniority
                person.years_experience = cv.years_experience or person.years_experience
                if cv.languages:
                    person.languages = cv.languages
            if cv.email and not person.email:
                person.email = identity.email

            document = existing or CvDocument(source=item.source, source_kind=item.source_kind)
            document.person = person
            document.display_name = item.display_name
            document.web_url = item.web_url
            document.media_type = prepared.media_type
            document.size_bytes = len(item.data)
            document.content_hash = prepared.digest
            document.extracted_text = prepared.text
            document.parsed = cv.to_json()
            document.language = cv.language
            document.modified_at = item.modified_at
            if existing is None:
                session.add(document)
            else:
                session.execute(delete(Chunk).where(Chunk.document_id == existing.id))
            session.flush()
            if previous is not None and previous is not person and _is_orphan(session, previous):
                session.delete(previous)  # the file now holds someone else's CV
            session.add_all(
                Chunk(
                    document_id=document.id,
                    person_id=person.id,
                    ordinal=d.ordinal,
                    section=d.section,
                    text=d.text,
                    index_text=d.index_text,
                    text_hash=d.text_hash,
                    weight=d.weight,
                    end_year=d.end_year,
                    skills=d.skills,
                    negated_skills=d.negated,
                )
                for d in drafts
            )
            bump_corpus_version(session)
            session.commit()
            return UpsertResult(
                item.source,
                "updated" if existing is not None else "added",
                person_name=person.name,
                chunks=len(drafts),
                embedded=len({d.text_hash for d in drafts if d.text_hash in embedded}),
                notes=(*prepared.warnings, *(f"{person.name}: {n}" for n in resolved.notes)),
            )

    def remove(self, source: str) -> bool:
        with self.sessions() as session:
            document = session.scalar(select(CvDocument).where(CvDocument.source == source))
            if document is None:
                return False
            person = document.person
            session.delete(document)
            session.flush()
            if person is not None and _is_orphan(session, person):
                session.delete(person)
            bump_corpus_version(session)
            session.commit()
            return True


def _is_newest(session: Session, person: Person, item: DocumentInput) -> bool:
    """Whether this CV is at least as recent as every other CV of the person (by file time)."""
    others = [d.modified_at for d in person.documents if d.source != item.source and d.modified_at]
    if not others or item.modified_at is None:
        return True
    mine = item.modified_at.replace(tzinfo=None)
    return all(mine >= other.replace(tzinfo=None) for other in others)


def _is_orphan(session: Session, person: Person) -> bool:
    """A person known only through CVs, with none left, leaves the index; ERP/Jira people stay."""
    if person.jira_account_id or person.moco_user_id is not None:
        return False
    remaining = session.scalar(select(CvDocument.id).where(CvDocument.person_id == person.id).limit(1))
    return remaining is None
