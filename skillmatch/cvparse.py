"""CV text -> structured fields (name, contact, location, languages, skills, years, roles, projects)
and the sections the chunker cuts into passages. Works on English and German CVs."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import date

from skillmatch.config import package_path
from skillmatch.text.dates import find_ranges
from skillmatch.text.lexicon import get_lexicon
from skillmatch.text.places import canonical_place, place_pattern

EMAIL_RE = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
PHONE_RE = re.compile(r"(?<![\w/])(?:\+|00)\d{1,3}[\s\-/.]?\(?\d{1,5}\)?(?:[\s\-/.]?\d{2,6}){1,4}(?!\w)")

_TERMS = json.loads(package_path("lexicon", "cv_terms.json").read_text(encoding="utf-8"))
SECTION_HEADINGS: dict[str, list[str]] = _TERMS["section_headings"]
_HEADING_TO_SECTION = {h: s for s, hs in SECTION_HEADINGS.items() for h in hs}
LANGUAGE_NAMES: dict[str, str] = _TERMS["language_names"]
CEFR = ("A1", "A2", "B1", "B2", "C1", "C2")
_LEVEL_WORDS: list[tuple[str, str]] = [(w, level) for w, level in _TERMS["level_words"]]
_LEVEL_RE = re.compile(
    r"\b(?:" + "|".join(re.escape(w) for w, _ in _LEVEL_WORDS) + r")\b|\b([ABC][12])\b", re.IGNORECASE
)
_LANGUAGE_RE = re.compile(
    r"\b(" + "|".join(sorted(LANGUAGE_NAMES, key=len, reverse=True)) + r")\b", re.IGNORECASE
)

CITIES: dict[str, str] = _TERMS["cities"]  # spelling -> canonical city; see text.places for lookups
_CITY_RE = place_pattern()
_LOCATION_LABEL_RE = re.compile(
    r"^\s*(?:location|standort|wohnort|ort|based in|residence|address|adresse|city|stadt|home base|"
    r"einsatzort)"
    r"\s*[:\-–]?\s*(.+)$",
    re.IGNORECASE,
)
_LABEL_RE = re.compile(
    r"^\s*(name|title|position|role|rolle|titel|current role|aktuelle rolle|job title)\s*[:\-–]\s*(.+)$",
    re.IGNORECASE,
)
_ROLE_LABEL_RE = re.compile(r"^\s*(?:role|rolle|position|funktion)\s*[:\-–]\s*(.+)$", re.IGNORECASE)
NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "ein": 1, "einem": 1, "eineinhalb": 1.5,
    "zwei": 2, "drei": 3, "vier": 4, "fünf": 5, "sechs": 6, "sieben": 7, "acht": 8, "neun": 9, "zehn": 10,
    "elf": 11, "zwölf": 12, "dreizehn": 13, "vierzehn": 14, "fünfzehn": 15, "sechzehn": 16, "siebzehn": 17,
    "achtzehn": 18, "neunzehn": 19, "zwanzig": 20,
}  # fmt: skip
_YEARS_RE = re.compile(
    r"(?:over|more than|mehr als|über|ueber)?\s*(\d{1,2}(?:[.,]5)?|"
    + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
    + r")\+?\s*(?:years?|yrs|jahre?n?)\b"
    r"(?:\s+(?:of|an|in|im|der|professional|professioneller|praktischer|einschlägiger|it|berufs)){0,3}"
    r"\s*(?:experience|erfahrung|berufserfahrung|industry|professional|projekterfahrung|it-erfahrung)",
    re.IGNORECASE,
)
# Role nouns, German ones also inside compounds and with the feminine -in: Datenbankadministratorin.
_ROLE_WORDS = re.compile(
    r"\b\w*?(developer|engineer|architect|consultant|manager|scientist|analyst|designer|tester|master|"
    r"owner|administrator|specialist|expert|coach|entwickler|berater|architekt|ingenieur|leiter|spezialist|"
    r"experte|programmer|programmierer|administrator|designer|analyst)(?:in|innen)?\b|"
    r"\b(lead|devops|sre|cto|head|expertin)\b",
    re.IGNORECASE,
)
_NOT_A_NAME = re.compile(r"\b(curriculum|vitae|lebenslauf|resume|résumé|cv|profil|profile)\b", re.IGNORECASE)
_NAME_TOKEN = re.compile(r"^(?:[^\W\d_][^\W\d_'’\-]*\.?|von|van|de|der|zu|di|da|le|dr\.)$", re.IGNORECASE)

SENIORITY_ORDER = ("junior", "mid", "senior", "lead")
_LEAD_RE = re.compile(
    r"\b(lead|principal|head of|chief|director|leiter(?:in)?|leitung|cto|vp|staff engineer|"
    r"engineering manager|practice lead)\b",
    re.IGNORECASE,
)
_SENIOR_RE = re.compile(
    r"\b(senior|sr\.?|architect|architekt(?:in)?|expert|experte|expertin)\b", re.IGNORECASE
)
_JUNIOR_RE = re.compile(
    r"\b(junior|jr\.?|trainee|intern|werkstudent(?:in)?|working student|praktikant(?:in)?|graduate|"
    r"berufseinsteiger(?:in)?|entry[- ]level|apprentice|auszubildende[rn]?)\b",
    re.IGNORECASE,
)


@dataclass
class Section:
    kind: str
    heading: str
    lines: list[str]

    @property
    def text(self) -> str:
        return "\n".join(self.lines).strip()


@dataclass
class ProjectEntry:
    title: str
    start: int | None
    end: int | None
    text: str


@dataclass
class ParsedCv:
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    location: str | None = None
    title: str | None = None
    seniority: str | None = None
    years_experience: float | None = None
    languages: dict[str, str] = field(default_factory=dict)  # ISO code -> CEFR level
    skills: list[str] = field(default_factory=list)
    negated_skills: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    projects: list[ProjectEntry] = field(default_factory=list)
    language: str = "en"
    sections: list[Section] = field(default_factory=list, repr=False)

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data.pop("sections")
        data["projects"] = [
            {"title": p.title, "start": p.start, "end": p.end, "summary": p.text[:300]} for p in self.projects
        ]
        return data


def heading_kind(line: str) -> str | None:
    """The section a line opens, or None when the line is content."""
    raw = line.strip()
    markdown = raw.startswith("#")
    text = raw.lstrip("#").strip().strip("*_").strip()
    text = re.sub(r"^\d+[.)]\s*", "", text)
    key = text.rstrip(":").strip().lower()
    key = re.sub(r"\s+", " ", key)
    if key in _HEADING_TO_SECTION:
        return _HEADING_TO_SECTION[key]
    if markdown and len(key.split()) <= 6:
        for heading, kind in _HEADING_TO_SECTION.items():
            if key.startswith(heading + " ") or key.endswith(" " + heading):
                return kind
    # Other markdown headings (a name, a project title) are content of the section they stand in.
    return None


def split_sections(text: str) -> list[Section]:
    sections = [Section("header", "", [])]
    for line in text.split("\n"):
        kind = heading_kind(line) if line.strip() else None
        if kind is not None:
            sections.append(Section(kind, line.strip().lstrip("#").strip(), []))
        else:
            sections[-1].lines.append(line)
    return [s for s in sections if s.text or s.kind != "header"]


def parse_cv(text: str, *, fallback_name: str | None = None, today: date | None = None) -> ParsedCv:
    today = today or date.today()
    lexicon = get_lexicon()
    sections = split_sections(text)
    cv = ParsedCv(sections=sections)
    analysis = lexicon.analyse(text)
    cv.language = analysis.language
    cv.skills = sorted(analysis.skills)
    cv.negated_skills = sorted(analysis.negated)

    email = EMAIL_RE.search(text)
    cv.email = email.group().lower() if email else None
    phone = PHONE_RE.search(text)
    cv.phone = phone.group().strip() if phone else None

    head_lines = [ln.strip().lstrip("#").strip() for ln in text.split("\n")[:15] if ln.strip()]
    cv.name = _find_name(head_lines) or _name_from_email(cv.email) or fallback_name
    cv.title = _find_title(head_lines, cv.name)
    cv.location = _find_location(text)
    cv.languages = _find_languages(sections, text)
    cv.projects = _find_projects(sections, today.year)
    cv.roles = _find_roles(cv.title, sections)
    cv.years_experience = _find_years(text, cv.projects, today.year)
    cv.seniority = _seniority(cv.title, cv.years_experience)
    return cv


def _find_name(lines: list[str]) -> str | None:
    for line in lines[:8]:
        label = _LABEL_RE.match(line)
        if label and label.group(1).lower() == "name":
            return label.group(2).strip()
    for line in lines[:6]:
        candidate = re.split(r"\s[|–—,·]\s|\t", line)[0].strip().strip("*_").strip()
        if (
            _NOT_A_NAME.search(candidate)
            or EMAIL_RE.search(candidate)
            or any(ch.isdigit() for ch in candidate)
        ):
            continue
        words = candidate.split()
        if (
            2 <= len(words) <= 4
            and all(_NAME_TOKEN.match(w) and (w[0].isupper() or len(w) <= 3) for w in words)
            and not _ROLE_WORDS.search(candidate)
        ) and heading_kind(candidate) is None:
            # "CLAUDIA WOLF" on a title page is Claudia Wolf.
            return candidate.title() if candidate.isupper() else candidate
    return None


def _name_from_email(email: str | None) -> str | None:
    if not email:
        return None
    local = email.split("@")[0]
    parts = [p for p in re.split(r"[._\-]", local) if p.isalpha()]
    return " ".join(p.capitalize() for p in parts) if len(parts) >= 2 else None


_FIELD_SPLIT = re.compile(r"\s*[|·•;]\s*|\s+[–—-]\s+|,\s+(?![^()]*\))")


def _find_title(lines: list[str], name: str | None) -> str | None:
    """A label ("Position: ..."), else the first line near the top that names a role. Contact lines like
    "Senior Cloud Architect · anna@example.com · Munich" are split into fields first."""
    for line in lines[:10]:
        label = _LABEL_RE.match(line)
        if label and label.group(1).lower() != "name":
            return label.group(2).strip()[:200]
    for line in lines[:8]:
        if heading_kind(line):
            continue
        rest = line.replace(name, " ") if name else line
        fields = [f.strip(" *_") for f in _FIELD_SPLIT.split(rest) if f.strip(" *_")]
        for field_text in fields:
            if EMAIL_RE.search(field_text) or PHONE_RE.search(field_text) or len(field_text) > 120:
                continue
            if _ROLE_WORDS.search(field_text):
                return field_text[:200]
    return None


def _find_location(text: str) -> str | None:
    lines = [ln for ln in text.split("\n")[:40] if ln.strip()]
    for line in lines:
        label = _LOCATION_LABEL_RE.match(line.lstrip("#*- ").strip())
        if label:
            city = _CITY_RE.search(label.group(1))
            return canonical_place(city.group(1)) if city else label.group(1).strip()[:100]
    for line in lines[:12]:
        bare = line.strip("#*_ ")
        contact_line = EMAIL_RE.search(line) or PHONE_RE.search(line) or any(sep in line for sep in "|·,")
        # A line that is only a place ("München", "Vienna, Austria", "Remote (Wohnort Leipzig)") counts too.
        city = _CITY_RE.search(line)
        if city and (contact_line or len(bare.split()) <= 4):
            return canonical_place(city.group(1))
    return None


def _level_of(fragment: str) -> str | None:
    match = _LEVEL_RE.search(fragment)
    if not match:
        return None
    if match.group(1):
        return match.group(1).upper()
    word = match.group().lower()
    return next(level for w, level in _LEVEL_WORDS if w == word)


def _find_languages(sections: list[Section], text: str) -> dict[str, str]:
    """Language -> CEFR level; in a languages section every named language counts, elsewhere only
    a language with an explicit level next to it ("German (C1)")."""
    found: dict[str, str] = {}
    language_sections = [s for s in sections if s.kind == "languages"]
    candidates: list[tuple[str, bool]] = [(ln, True) for s in language_sections for ln in s.lines]
    candidates += [(ln, False) for ln in text.split("\n") if _LANGUAGE_RE.search(ln) and _LEVEL_RE.search(ln)]
    for line, in_section in candidates:
        matches = list(_LANGUAGE_RE.finditer(line))
        for i, m in enumerate(matches):
            tail_end = matches[i + 1].start() if i + 1 < len(matches) else len(line)
            level = _level_of(line[m.end() : tail_end])
            code = LANGUAGE_NAMES[m.group(1).lower()]
            if level is None and not in_section:
                continue
            level = level or "B1"
            if code not in found or CEFR.index(level) > CEFR.index(found[code]):
                found[code] = level
    return found


def _find_projects(sections: list[Section], current_year: int) -> list[ProjectEntry]:
    """Experience/project entries, split where a line carries a date range."""
    entries: list[ProjectEntry] = []
    for section in sections:
        if section.kind not in ("experience", "projects"):
            continue
        current: list[str] = []
        period: tuple[int | None, int | None] = (None, None)
        for line in [*section.lines, "\0"]:
            ranges = find_ranges(line, current_year) if line != "\0" else []
            starts_entry = bool(ranges) and ranges[0].span[0] <= max(12, len(line) // 3)
            is_entry_heading = line.lstrip().startswith("#")
            if line == "\0" or starts_entry or (is_entry_heading and current):
                body = "\n".join(current).strip()
                if body:
                    entries.append(ProjectEntry(_entry_title(body), period[0], period[1], body))
                current = []
                period = (ranges[0].start, ranges[0].end) if ranges else (None, None)
            if line != "\0":
                if not ranges and not any(period) and current == []:
                    period = (None, None)
                current.append(line)
                if ranges and not any(period):
                    period = (ranges[0].start, ranges[0].end)
    return entries


def _entry_title(body: str) -> str:
    first = next((ln for ln in body.split("\n") if ln.strip()), "")
    return first.lstrip("#*- ").strip()[:200]


def _find_roles(title: str | None, sections: list[Section]) -> list[str]:
    roles: list[str] = [title] if title else []
    for section in sections:
        if section.kind not in ("experience", "projects"):
            continue
        for line in section.lines:
            label = _ROLE_LABEL_RE.match(line.lstrip("*-• "))
            if label:
                role = label.group(1).strip().strip("*_ ")[:120]
                if role and role not in roles:
                    roles.append(role)
    return roles[:12]


def _find_years(text: str, projects: list[ProjectEntry], current_year: int) -> float | None:
    explicit = [_number(m.group(1)) for m in _YEARS_RE.finditer(text[:3000])]
    explicit = [n for n in explicit if 0 < n <= 50]
    if explicit:
        return float(explicit[0])
    starts = [p.start for p in projects if p.start]
    if starts:
        return float(max(0, current_year - min(starts)))
    return None


def _number(word: str) -> float:
    word = word.lower().replace(",", ".")
    return float(NUMBER_WORDS.get(word, 0)) if word in NUMBER_WORDS else float(word)


def _seniority(title: str | None, years: float | None) -> str | None:
    if title:
        if _JUNIOR_RE.search(title):
            return "junior"
        if _LEAD_RE.search(title):
            return "lead"
        if _SENIOR_RE.search(title):
            return "senior"
    if years is None:
        return None
    if years < 3:
        return "junior"
    if years < 6:
        return "mid"
    return "senior"
