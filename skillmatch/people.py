"""Resolving one real person across CVs, Jira accounts and MOCO users.

A CV is matched to a person deliberately, strongest evidence first:

1. the same file content already indexed under another path: the same document, so the same person;
2. the same e-mail address;
3. the same name (folded: case, umlaut spellings, accents, titles) *and* corroboration from the CVs
   already on file for that person: the same phone number, or two of: the same location, the same dated
   career entries (years), a largely shared set of skills. Skills and dates are language-neutral, so a
   German and an English CV of one person agree on them;
4. the same name as a person known only from MOCO or Jira (no CV yet), when that name is unique.

Two CVs that merely share a name, with different e-mail addresses or nothing else in common, stay two
people: a wrong merge mixes two consultants' evidence and availability, which is worse than a duplicate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from skillmatch.models import CvDocument, Person
from skillmatch.text.names import name_key

__all__ = ["CvIdentity", "find_person", "name_key", "normalise_email", "resolve_cv"]

SKILL_OVERLAP = 0.5  # Jaccard of two CVs' skill sets that counts as "largely shared"
MIN_SHARED_PERIODS = 2  # dated career entries (start, end) two CVs must share to count as the same career


def normalise_email(email: str | None) -> str | None:
    if not email:
        return None
    email = email.strip().lower()
    return email if "@" in email else None


def normalise_phone(phone: str | None) -> str | None:
    """The subscriber number without country or trunk prefix: `+49 89 1234-567` = `089 1234567`."""
    if not phone:
        return None
    digits = re.sub(r"\D", "", phone)
    if phone.strip().startswith("+"):
        digits = digits[2:]  # a country code of two digits covers DACH; a longer one only shortens less
    elif digits.startswith("00"):
        digits = digits[4:]
    digits = digits.lstrip("0")
    return digits if len(digits) >= 6 else None


def find_person(
    session: Session,
    *,
    email: str | None = None,
    name: str | None = None,
    jira_account_id: str | None = None,
    moco_user_id: int | None = None,
) -> Person | None:
    """Most specific identifier first: external ids, then e-mail, then an unambiguous name."""
    if jira_account_id:
        person = session.scalar(select(Person).where(Person.jira_account_id == jira_account_id))
        if person:
            return person
    if moco_user_id is not None:
        person = session.scalar(select(Person).where(Person.moco_user_id == moco_user_id))
        if person:
            return person
    email = normalise_email(email)
    if email:
        person = session.scalar(select(Person).where(func.lower(Person.email) == email))
        if person:
            return person
    if name:
        matches = same_name(session, name)
        if len(matches) == 1:
            return matches[0]
    return None


def same_name(session: Session, name: str) -> list[Person]:
    key = name_key(name)
    if not key:
        return []
    return list(session.scalars(select(Person).where(Person.name_key == key).order_by(Person.id)))


@dataclass(frozen=True)
class CvIdentity:
    """What a CV says about whose it is."""

    name: str
    email: str | None = None
    phone: str | None = None
    location: str | None = None
    skills: frozenset[str] = frozenset()
    periods: frozenset[tuple[int, int]] = frozenset()  # (start, end) years of dated entries

    @classmethod
    def from_parsed(cls, name: str, parsed: dict[str, Any]) -> CvIdentity:
        return cls(
            name=name,
            email=normalise_email(parsed.get("email")),
            phone=normalise_phone(parsed.get("phone")),
            location=parsed.get("location"),
            skills=frozenset(parsed.get("skills") or ()),
            periods=frozenset(
                (p["start"], p["end"])
                for p in parsed.get("projects") or ()
                if p.get("start") is not None and p.get("end") is not None
            ),
        )


@dataclass
class Resolution:
    person: Person
    created: bool
    why: str  # how the CV was matched, for the ingestion report and the tests
    notes: list[str] = field(default_factory=list)


def corroboration(cv: CvIdentity, other: CvIdentity) -> str | None:
    """Why two CVs that carry the same name are one person's, or None when nothing says so."""
    if cv.email and other.email and cv.email != other.email:
        return None
    if cv.phone and other.phone and cv.phone == other.phone:
        return "same name and phone number"
    signals = []
    if cv.location and other.location and cv.location == other.location:
        signals.append("location")
    if len(cv.periods & other.periods) >= MIN_SHARED_PERIODS:
        signals.append("career dates")
    union = cv.skills | other.skills
    if union and len(cv.skills & other.skills) / len(union) >= SKILL_OVERLAP:
        signals.append("skills")
    return "same name, " + " and ".join(signals) if len(signals) >= 2 else None


def resolve_cv(
    session: Session, cv: CvIdentity, *, content_hash: str, source: str, current: Person | None
) -> Resolution:
    """The person a CV belongs to, found or created (see the module docstring for the order)."""
    twin = session.scalar(
        select(CvDocument)
        .where(CvDocument.content_hash == content_hash, CvDocument.source != source)
        .where(CvDocument.person_id.is_not(None))
        .limit(1)
    )
    if twin is not None and twin.person is not None:
        why = f"same content as {twin.display_name}"
        return Resolution(twin.person, False, why, [f"one person with {twin.display_name} ({why})"])
    if cv.email:
        person = session.scalar(select(Person).where(func.lower(Person.email) == cv.email))
        if person is not None:
            return Resolution(person, False, "same e-mail address")
    key = name_key(cv.name)
    if current is not None and current.name_key == key and not _email_conflict(current, cv):
        return Resolution(current, False, "the same file, updated")  # a new version of one person's CV
    namesakes = same_name(session, cv.name)
    for person in namesakes:
        if _email_conflict(person, cv):
            continue
        for document in (d for d in person.documents if d.source != source):
            reason = corroboration(cv, CvIdentity.from_parsed(person.name, document.parsed or {}))
            if reason:
                return Resolution(
                    person, False, reason, [f"one person with {document.display_name} ({reason})"]
                )
    without_cv = [p for p in namesakes if not any(d.source != source for d in p.documents)]
    if len(namesakes) == 1 and without_cv and not _email_conflict(without_cv[0], cv):
        return Resolution(without_cv[0], False, "the only person of that name (from MOCO or Jira)")
    person = Person(name=cv.name.strip(), email=cv.email)
    session.add(person)
    session.flush()
    notes = []
    if namesakes:
        notes.append(
            f"same name as {len(namesakes)} indexed person(s), but no shared e-mail, phone, location, "
            "career dates or skills: kept as a separate person"
        )
    return Resolution(person, True, "new person", notes)


def _email_conflict(person: Person, cv: CvIdentity) -> bool:
    return bool(person.email and cv.email and normalise_email(person.email) != cv.email)
