"""What a staffing request asks for, as constraints the search can use — read by the rule-based parser or
validated from a model's JSON answer.

Precedence: the ticket's configured fields (start, end, location, language, headcount) win over anything
read from its words; the model's reading, when it is valid, wins over the parser's. A request with neither
a role nor a skill is not usable: it gets no guess. Location and language become soft intents of the
search (a fitting person elsewhere still shows, ranked lower), the period is used for availability.
"""

from __future__ import annotations

import calendar
import json
import re
from datetime import date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from assistant.jobs.requests import TicketRequest
from assistant.masking import mask_text
from skillmatch.cvparse import CITIES, LANGUAGE_NAMES
from skillmatch.query import analyse_query

Seniority = Literal["junior", "mid", "senior", "lead"]
Extractor = Literal["model", "parser"]
MAX_HEADCOUNT = 50
DEFAULT_WINDOW_DAYS = 27  # a start without an end: availability is checked for the first four weeks

_ROLE_NOUN = (
    r"(?:developer|engineer|architect|consultant|manager|scientist|analyst|designer|tester|scrum master|"
    r"product owner|owner|administrator|admin|specialist|expert|coach|programmer|devops|sre|lead|"
    r"entwickler|berater|architekt|ingenieur|projektleiter|leiter|spezialist|experte|programmierer|"
    r"projektmanager|administrator|analyst|tester|designer)(?:in|innen|s)?"
)
_ROLE_RE = re.compile(rf"\b((?:[\w#+./-]+[ -]){{0,3}}?{_ROLE_NOUN})\b", re.IGNORECASE)
_STOP = {
    "a", "an", "the", "for", "we", "need", "needs", "looking", "seeking", "wanted", "one", "two", "as",
    "our", "with", "and", "or", "of", "to", "is", "are", "wir", "suchen", "einen", "eine", "ein", "für",
    "als", "und", "oder", "mit", "der", "die", "das", "zwei", "brauchen", "gesucht", "request", "staffing",
}  # fmt: skip
_MONTHS = {
    "january": 1, "januar": 1, "jan": 1, "february": 2, "februar": 2, "feb": 2, "march": 3, "märz": 3,
    "maerz": 3, "mar": 3, "april": 4, "apr": 4, "may": 5, "mai": 5, "june": 6, "juni": 6, "jun": 6,
    "july": 7, "juli": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sep": 9, "sept": 9,
    "october": 10, "oktober": 10, "oct": 10, "okt": 10, "november": 11, "nov": 11, "december": 12,
    "dezember": 12, "dec": 12, "dez": 12,
}  # fmt: skip
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
_ISO_DATE = re.compile(r"\b(20\d{2})-(\d{1,2})-(\d{1,2})\b")
_DOT_DATE = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(20\d{2})\b")
_FROM_MONTH = re.compile(
    rf"\b(?:from|starting|start|ab|in|im|beginning|anfang|early|mid|mitte)\s+(?:(?:of|anfang|early|mid|mitte)\s+)?"
    rf"({_MONTH_RE})\.?(?:\s+(20\d{{2}}))?\b",
    re.IGNORECASE,
)
_DURATION = re.compile(r"\b(\d{1,2})\s*(months?|monate?n?|weeks?|wochen)\b", re.IGNORECASE)
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "zwei": 2, "drei": 3, "vier": 4}
_HEADCOUNT = re.compile(
    r"\b(\d{1,2}|one|two|three|four|five|zwei|drei|vier)\s*(?:x\s*)?(?:(?:senior|junior|erfahrene[n]?|"
    r"experienced)\s+)?(?:[\w#+.-]+\s+)?(?:people|persons|consultants|developers|engineers|testers|ftes?|"
    r"personen|leute|berater(?:innen)?|entwickler(?:innen)?|kolleg(?:en|innen)|architects|architekt(?:en|innen))\b",
    re.IGNORECASE,
)
_LANGUAGE_VALUE = re.compile(r"^\s*([^\W\d_]+)\s*(?:[:\s\-(]\s*([ABCabc][12])\)?)?\s*$")
_LANGUAGE_WORD = {code: name for name, code in reversed(list(LANGUAGE_NAMES.items())) if name.isascii()}


class Constraints(BaseModel):
    """What was understood. Stored per ticket (JSON) so an unchanged ticket is not read again."""

    model_config = ConfigDict(extra="ignore")

    usable: bool
    query: str = ""  # what the search ranks by
    role: str | None = None
    skills: list[str] = Field(default_factory=list)
    domain: str | None = None
    seniority: Seniority | None = None
    locations: list[str] = Field(default_factory=list)
    language: str | None = None  # "de:C1"
    start: date | None = None
    end: date | None = None
    headcount: int | None = None
    missing: list[str] = Field(default_factory=list)
    extractor: Extractor = "parser"
    note: str | None = None  # e.g. why the model's reading was not used

    def period(self) -> tuple[date, date] | None:
        """The period to check availability for: start..end, or the first four weeks from start."""
        if self.start is None:
            return None
        end = self.end if self.end and self.end >= self.start else self.start + timedelta(DEFAULT_WINDOW_DAYS)
        return self.start, end

    def stored(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


# --- the parser -------------------------------------------------------------------------------------------


def parse_constraints(request: TicketRequest, today: date) -> Constraints:
    """The rule-based reading: skills, seniority, language and place from the lexicon, role and period
    from patterns, then the ticket's own fields on top."""
    text = request.text()
    if not text.strip():
        return Constraints(usable=False, missing=["summary", "description"], extractor="parser")
    intent = analyse_query(text)
    start, end = _period(text, today)
    constraints = Constraints(
        usable=True,
        role=_role(request.summary) or _role(request.description),
        skills=list(intent.skills),
        seniority=intent.seniority,  # type: ignore[arg-type]
        locations=list(intent.locations),
        language=f"{intent.language[0]}:{intent.language[1]}" if intent.language else None,
        start=start,
        end=end,
        headcount=_headcount(text),
        extractor="parser",
    )
    return finish(constraints, request, today)


def _role(text: str) -> str | None:
    for match in _ROLE_RE.finditer(text):
        words = match.group(1).split()
        while len(words) > 1 and (words[0].casefold().strip("(),:") in _STOP or words[0].isdigit()):
            words.pop(0)
        role = " ".join(words).strip(" ,.:;()")
        if role and role.casefold() not in _STOP:
            return role[:120]
    return None


def _period(text: str, today: date) -> tuple[date | None, date | None]:
    found: list[tuple[int, date]] = []
    for m in _ISO_DATE.finditer(text):
        found.extend((m.start(), d) for d in [_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))] if d)
    for m in _DOT_DATE.finditer(text):
        found.extend((m.start(), d) for d in [_date(int(m.group(3)), int(m.group(2)), int(m.group(1)))] if d)
    found.sort()
    if found:
        start = found[0][1]
        end = found[1][1] if len(found) > 1 and found[1][1] >= start else None
        return start, end or _after(start, text)
    month = _FROM_MONTH.search(text)
    if month:
        number = _MONTHS[month.group(1).lower()]
        year = int(month.group(2)) if month.group(2) else today.year + (number <= today.month)
        start = date(year, number, 1)
        return start, _after(start, text)
    return None, None


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _after(start: date, text: str) -> date | None:
    """ "for 3 months" / "6 Monate" after a start: the last day of that span."""
    duration = _DURATION.search(text)
    if not duration:
        return None
    amount, unit = int(duration.group(1)), duration.group(2).lower()
    if unit.startswith(("week", "woche")):
        return start + timedelta(weeks=amount) - timedelta(days=1)
    month = start.month - 1 + amount
    year, month = start.year + month // 12, month % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day) - timedelta(days=1)


def _headcount(text: str) -> int | None:
    match = _HEADCOUNT.search(text)
    if not match:
        return None
    raw = match.group(1).lower()
    value = int(raw) if raw.isdigit() else _NUMBER_WORDS.get(raw)
    return value if value and 1 <= value <= MAX_HEADCOUNT else None


# --- the ticket's own fields win ------------------------------------------------------------------------


def finish(constraints: Constraints, request: TicketRequest, today: date) -> Constraints:
    """Apply the configured fields, then decide usability and what is missing."""
    values = constraints.model_dump()
    fields = request.fields
    if (start := field_date(fields.get("start"))) is not None:
        values["start"] = start
    if (end := field_date(fields.get("end"))) is not None:
        values["end"] = end
    if values["start"] and values["end"] and values["end"] < values["start"]:
        values["end"] = None  # a contradiction is not a period
    if fields.get("location"):
        values["locations"] = [city(part) for part in re.split(r"[,;/]", fields["location"]) if part.strip()]
    if fields.get("language") and (language := normalise_language(fields["language"])):
        values["language"] = language
    if fields.get("headcount") and (count := _field_int(fields["headcount"])):
        values["headcount"] = count
    values["usable"] = bool(values["usable"] and (values["role"] or values["skills"]))
    missing = [m for m in values["missing"] if m not in ("role", "skills", "period", "role or skills")]
    if not (values["role"] or values["skills"]):
        missing.insert(0, "role or skills")
    if values["start"] is None:
        missing.append("period")
    values["missing"] = missing
    values["note"] = mask_text(values["note"]) if values["note"] else None
    values["query"] = _query(values, request)
    return Constraints.model_validate(values)


def _query(values: dict[str, Any], request: TicketRequest) -> str:
    """What the search ranks by. The parser's reading hands over the request's own words (the search
    reads skills and intents from them); the model's reading is condensed to role, skills and domain.
    Place and language are added as phrases the search reads as soft intents."""
    if values["extractor"] == "model":
        seniority = values["seniority"] if values["seniority"] != "mid" else None
        parts = [seniority, values["role"], ", ".join(values["skills"]) or None]
        parts.append(f"({values['domain']})" if values["domain"] else None)
    else:
        parts = [request.search_text()]
    text = " ".join(p for p in parts if p)
    unsaid = [c for c in values["locations"] if c.casefold() not in text.casefold()]
    if unsaid:
        text += " in " + ", ".join(unsaid)
    if values["language"] and analyse_query(text).language is None:
        text += " " + language_phrase(values["language"])
    return text.strip()


def field_date(value: str | None) -> date | None:
    if not value:
        return None
    text = value.strip()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    dotted = _DOT_DATE.search(text)
    return _date(int(dotted.group(3)), int(dotted.group(2)), int(dotted.group(1))) if dotted else None


def _field_int(value: str) -> int | None:
    try:
        number = int(float(value.strip()))
    except ValueError:
        return _headcount(f"{value} people")
    return number if 1 <= number <= MAX_HEADCOUNT else None


def city(name: str) -> str:
    return CITIES.get(name.strip().casefold(), name.strip())


def normalise_language(value: str) -> str | None:
    """ "German", "Deutsch (C1)", "de:C1", "en B2" -> "de:C1"; None when it names no language."""
    match = _LANGUAGE_VALUE.match(value.replace("-", " "))
    if not match:
        return None
    word = match.group(1).casefold()
    code = LANGUAGE_NAMES.get(word) or (word if len(word) == 2 and word in LANGUAGE_NAMES.values() else None)
    if code is None:
        return None
    return f"{code}:{(match.group(2) or 'B2').upper()}"


def language_phrase(language: str) -> str:
    """ "de:C1" -> "fluent German-speaking": words the search reads as a language intent."""
    code, _, level = language.partition(":")
    name = _LANGUAGE_WORD.get(code, code).capitalize()
    degree = {"C2": "native ", "C1": "fluent "}.get(level, "")
    return f"{degree}{name}-speaking"


def language_label(language: str) -> str:
    code, _, level = language.partition(":")
    return f"{_LANGUAGE_WORD.get(code, code).capitalize()} ({level or 'B2'})"


# --- the model's answer ----------------------------------------------------------------------------------


class InvalidAnswer(ValueError):
    """The model's answer is not the JSON object asked for; the message says what was wrong."""


class ModelAnswer(BaseModel):
    """The JSON object the extraction prompt asks for; anything else is refused."""

    model_config = ConfigDict(extra="ignore")

    usable: bool
    role: str | None = Field(None, max_length=120)
    skills: list[str] = Field(default_factory=list, max_length=40)
    domain: str | None = Field(None, max_length=120)
    seniority: Seniority | None = None
    locations: list[str] = Field(default_factory=list, max_length=10)
    language: str | None = None
    start: date | None = None
    end: date | None = None
    headcount: int | None = Field(None, ge=1, le=MAX_HEADCOUNT)
    missing: list[str] = Field(default_factory=list, max_length=10)

    @field_validator("seniority", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() or None if isinstance(value, str) else value

    @field_validator("role", "domain", mode="before")
    @classmethod
    def _blank(cls, value: Any) -> Any:
        return value.strip() or None if isinstance(value, str) else value

    @field_validator("skills", "locations", "missing")
    @classmethod
    def _items(cls, value: list[str]) -> list[str]:
        return [item.strip()[:60] for item in value if item.strip()]

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        normalised = normalise_language(value)
        if normalised is None:
            raise ValueError(f"not a language: {value!r}")
        return normalised

    @model_validator(mode="after")
    def _order(self) -> ModelAnswer:
        if self.start and self.end and self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


def parse_answer(content: str | None) -> ModelAnswer:
    """The model's text -> a validated answer (a ```json fence is tolerated), else InvalidAnswer."""
    text = (content or "").strip()
    fenced = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", text, re.DOTALL)
    if fenced:
        text = fenced.group(1)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidAnswer(f"not JSON ({exc.msg} at position {exc.pos})") from None
    if not isinstance(data, dict):
        raise InvalidAnswer(f"a JSON {type(data).__name__}, not an object")
    try:
        return ModelAnswer.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "answer"
        raise InvalidAnswer(f"{where}: {first['msg']}") from None


def from_answer(answer: ModelAnswer, request: TicketRequest, today: date) -> Constraints:
    constraints = Constraints(
        usable=answer.usable,
        role=answer.role,
        skills=answer.skills,
        domain=answer.domain,
        seniority=answer.seniority,
        locations=[city(c) for c in answer.locations],
        language=answer.language,
        start=answer.start,
        end=answer.end,
        headcount=answer.headcount,
        missing=answer.missing,
        extractor="model",
    )
    return finish(constraints, request, today)
