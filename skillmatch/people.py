"""Resolving one real person across CVs, Jira accounts and MOCO users."""

from __future__ import annotations

import unicodedata

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from skillmatch.models import Person

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def normalise_email(email: str | None) -> str | None:
    if not email:
        return None
    email = email.strip().lower()
    return email if "@" in email else None


def name_key(name: str) -> str:
    """`Jürgen Müller`, `Juergen Mueller` and `jurgen  muller` compare equal enough to match."""
    folded = name.casefold().translate(_UMLAUTS)
    folded = unicodedata.normalize("NFKD", folded)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return " ".join(folded.replace("-", " ").split())


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
        key = name_key(name)
        first_token = key.split(" ")[0] if key else ""
        candidates = session.scalars(
            select(Person).where(func.lower(Person.name).like(f"%{first_token[:3]}%"))
        ).all()
        matches = [p for p in candidates if name_key(p.name) == key]
        if len(matches) == 1:
            return matches[0]
    return None


def find_or_create_person(session: Session, *, name: str, email: str | None = None) -> Person:
    person = find_person(session, email=email, name=name)
    if person is None:
        person = Person(name=name.strip(), email=normalise_email(email))
        session.add(person)
        session.flush()
    elif email and not person.email:
        person.email = normalise_email(email)
    return person
