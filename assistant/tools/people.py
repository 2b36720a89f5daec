"""One way to turn what the model calls a person (an id, a full name, a first name) into a Person."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.tools.base import ToolError
from skillmatch.models import Person
from skillmatch.people import name_key

_DIGRAPHS = (("ae", "a"), ("oe", "o"), ("ue", "u"), ("ss", "s"))


def loose_key(name: str) -> tuple[str, ...]:
    """Name words with umlauts, accents and their spellings folded: Jürgen = Juergen = Jurgen."""
    folded = name_key(name.replace("ı", "i").replace("İ", "I"))
    for digraph, letter in _DIGRAPHS:
        folded = folded.replace(digraph, letter)
    return tuple(re.findall(r"\w+", folded))


@dataclass(frozen=True)
class _Entry:
    id: int
    name: str
    key: tuple[str, ...]


def _directory(session: Session) -> list[_Entry]:
    rows = session.execute(select(Person.id, Person.name).order_by(Person.id))
    return [_Entry(pid, name, loose_key(name)) for pid, name in rows]


def _listing(entries: list[_Entry], limit: int = 8) -> str:
    shown = ", ".join(f"{e.name} (id {e.id})" for e in entries[:limit])
    return shown + (f" and {len(entries) - limit} more" if len(entries) > limit else "")


def _matches(key: tuple[str, ...], directory: list[_Entry]) -> list[_Entry]:
    """Exact name first, then every word of the request among the name's words, then word prefixes."""
    exact = [e for e in directory if e.key == key]
    if exact:
        return exact
    words = set(key)
    subset = [e for e in directory if words <= set(e.key)]
    if subset:
        return subset
    if all(len(w) >= 3 for w in key):
        return [e for e in directory if all(any(part.startswith(w) for part in e.key) for w in key)]
    return []


def resolve_person(session: Session, ref: str | int) -> Person:
    """By person_id (an int or a string of digits) or by an unambiguous name; ToolError otherwise."""
    if isinstance(ref, int) or (isinstance(ref, str) and ref.strip().isdigit()):
        person = session.get(Person, int(ref))
        if person is None:
            raise ToolError(f"No person with id {int(ref)}. Use a person_id from search_candidates.")
        return person
    key = loose_key(ref)
    if not key:
        raise ToolError("An empty person name was given; pass a name or a person_id.")
    directory = _directory(session)
    found = _matches(key, directory)
    if len(found) == 1:
        person = session.get(Person, found[0].id)
        assert person is not None
        return person
    if found:
        raise ToolError(
            f'"{ref}" is ambiguous: {_listing(found)}. Call again with the person_id or the full name.'
        )
    by_text = {" ".join(e.key): e for e in directory}
    close = difflib.get_close_matches(" ".join(key), list(by_text), n=3, cutoff=0.7)
    hint = f" Did you mean {_listing([by_text[c] for c in close])}?" if close else ""
    raise ToolError(f'Nobody named "{ref}" is known.{hint} Use a full name or a person_id.')
