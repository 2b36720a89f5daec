"""Consistency checks for the bundled sample dataset (``skillmatch/sample``).

Checks that every gold file exists, that all JSON fixtures parse, that every CV person of the first two
batches is a MOCO user (same e-mail, case-insensitive; batch 3 has no ERP or Jira data), that Jira and
MOCO reference each other consistently, and that all .docx/.pdf CVs open and contain text while the
files in ``bad_cvs`` really are broken.

Independent of the search engine: it only uses python-docx and pypdf.

Usage::

    .venv/bin/python scripts/validate_sample_data.py
"""

from __future__ import annotations

import json
import re
import sys
import zipfile
from collections import Counter
from pathlib import Path

import docx
import pypdf

SAMPLE = Path(__file__).resolve().parents[1] / "skillmatch" / "sample"
CV_DIR = SAMPLE / "cvs"
BAD_DIR = SAMPLE / "bad_cvs"
KINDS = {"plain", "synonym", "paraphrase", "cross-lingual", "negation", "seniority", "stale", "stuffing"}
EMAIL_RE = re.compile(r"[\w.+-]+@example-consulting\.com", re.I)
TS_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}")
GERMAN_MARKERS = ("Berufserfahrung", "Kenntnisse", "Sprachen", "Ausbildung", "Muttersprache", "Projekte")

# Batch 3 (24 CVs, written independently, added in issue 11): CVs only, no MOCO or Jira data, and shorter
# (180 words and up).
BATCH3 = frozenset(
    [
        "aisha-rahman.md",
        "anja-schubert.txt",
        "benedikt-haas.txt",
        "dirk-hartwig.txt",
        "ewa-nowak.md",
        "grace-okafor.txt",
        "hendrik-lange.md",
        "jana-petersen.md",
        "jonas-reuter.txt",
        "katrin-schulte.md",
        "lea-winter.txt",
        "lisa-roemer.md",
        "lukas-berger.md",
        "matthias-kuehn.txt",
        "nadine-koenig.md",
        "oliver-brenner.md",
        "priya-raman.md",
        "ralf-weber.txt",
        "rebecca-thiel.md",
        "sebastian-vogt.txt",
        "svenja-kraus.md",
        "tim-albrecht.txt",
        "tom-seidel.txt",
        "victor-alvarez.md",
    ]
)
MIN_WORDS = {"first": 250, "batch3": 180}

errors: list[str] = []


def check(cond: bool, msg: str) -> None:
    if not cond:
        errors.append(msg)


def cv_text(path: Path) -> str:
    if path.suffix == ".docx":
        d = docx.Document(str(path))
        parts = [p.text for p in d.paragraphs]
        parts += [c.text for t in d.tables for r in t.rows for c in r.cells]
        parts += [p.text for s in d.sections for p in s.header.paragraphs]
        return "\n".join(parts)
    if path.suffix == ".pdf":
        return "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(str(path)).pages)
    return path.read_text(encoding="utf-8")


def load(rel: str):
    try:
        return json.loads((SAMPLE / rel).read_text(encoding="utf-8"))
    except Exception as exc:
        errors.append(f"{rel}: does not parse ({exc})")
        return None


def main() -> int:
    # ---- CVs -------------------------------------------------------------------------------
    cvs = sorted(p for p in CV_DIR.iterdir() if p.is_file())
    texts: dict[str, str] = {}
    for path in cvs:
        try:
            texts[path.name] = cv_text(path)
        except Exception as exc:
            errors.append(f"{path.name}: cannot be read ({exc})")
            continue
        words = len(texts[path.name].split())
        least = MIN_WORDS["batch3" if path.name in BATCH3 else "first"]
        check(least <= words <= 900, f"{path.name}: {words} words (expected {least}-900)")
        check(len(EMAIL_RE.findall(texts[path.name])) >= 1, f"{path.name}: no e-mail address found")
        if path.suffix == ".pdf":
            pages = len(pypdf.PdfReader(str(path)).pages)
            check(1 <= pages <= 2, f"{path.name}: {pages} pages")
    formats = Counter(p.suffix for p in cvs)
    german = {n for n, t in texts.items() if sum(m.lower() in t.lower() for m in GERMAN_MARKERS) >= 2}
    print(f"CVs: {len(cvs)} {dict(formats)}; German: {len(german)}, English: {len(cvs) - len(german)}")
    print("  German:", ", ".join(sorted(german)))
    check(len(cvs) >= 60, "fewer than 60 CVs")
    check(set(texts) >= BATCH3, f"batch-3 CVs missing: {sorted(BATCH3 - set(texts))}")

    # docx specifics: contact details in the page header, skills/languages in tables
    docx_files = [p for p in cvs if p.suffix == ".docx"]
    with_header = [p.name for p in docx_files if any(EMAIL_RE.search(h.text) for h in _headers(p))]
    with_table = [p.name for p in docx_files if docx.Document(str(p)).tables]
    print(f"docx with contact in header: {len(with_header)}, with tables: {len(with_table)}")
    check(len(with_header) >= 3, "fewer than 3 docx with contact details in the header")
    check(len(with_table) >= 4, "fewer than 4 docx with tables")

    # ---- bad files ---------------------------------------------------------------------------
    check((BAD_DIR / "empty.md").stat().st_size == 0, "empty.md is not empty")
    check(b"\x00" in (BAD_DIR / "binary.txt").read_bytes(), "binary.txt has no NUL bytes")
    check(not zipfile.is_zipfile(BAD_DIR / "corrupt.docx"), "corrupt.docx is a valid zip")
    try:
        pypdf.PdfReader(str(BAD_DIR / "corrupt.pdf"), strict=True).pages[0].extract_text()
        errors.append("corrupt.pdf can be read")
    except Exception:
        pass
    scanned = pypdf.PdfReader(str(BAD_DIR / "scanned.pdf"))
    check(len(scanned.pages) == 1, "scanned.pdf should have one page")
    check(not (scanned.pages[0].extract_text() or "").strip(), "scanned.pdf has a text layer")
    check((BAD_DIR / "unsupported.xlsx").exists(), "unsupported.xlsx missing")

    # ---- MOCO --------------------------------------------------------------------------------
    users = load("moco/users.json") or []
    planning = load("moco/planning_entries.json") or []
    employments = load("moco/employments.json") or []
    schedules = load("moco/schedules.json") or []
    activities = load("moco/activities.json") or []
    by_mail = {u["email"].lower(): u for u in users}
    user_ids = {u["id"] for u in users}
    cv_user: dict[str, dict] = {}
    for name, text in texts.items():
        mail = EMAIL_RE.search(text)
        if not mail or name in BATCH3:
            continue
        user = by_mail.get(mail.group(0).lower())
        check(user is not None, f"{name}: {mail.group(0)} is not a MOCO user")
        if user:
            cv_user[name] = user
            check(
                user["firstname"].lower() in text.lower() and user["lastname"].lower() in text.lower(),
                f"{name}: MOCO name {user['firstname']} {user['lastname']} not in CV",
            )
    print(f"CV people found in MOCO: {len(cv_user)}/{len(texts)}")
    for rel, rows in [
        ("planning_entries", planning),
        ("employments", employments),
        ("schedules", schedules),
        ("activities", activities),
    ]:
        for row in rows:
            check(row["user"]["id"] in user_ids, f"moco/{rel}.json {row['id']}: unknown user")
    for e in planning:
        check("2026-06-01" <= e["starts_on"] <= e["ends_on"] <= "2027-06-30", f"planning {e['id']}: dates")
        check((e["project"] is None) != (e["deal"] is None), f"planning {e['id']}: needs project xor deal")
    for s in schedules:
        check(s["assignment"]["type"] == "Absence", f"schedule {s['id']}: not an absence")
    for e in employments:
        pattern_hours = sum(e["pattern"]["am"]) + sum(e["pattern"]["pm"])
        check(pattern_hours == e["weekly_target_hours"], f"employment {e['id']}: pattern != weekly hours")

    # ---- Jira --------------------------------------------------------------------------------
    jira = load("jira/issues.json") or {"issues": []}
    check(jira.get("isLast") is True, "jira: isLast must be true")
    issues = jira["issues"]
    keys = {i["key"] for i in issues}
    check(len(keys) == len(issues), "jira: duplicate keys")
    check(80 <= len(issues) <= 150, f"jira: {len(issues)} issues (expected 80-150)")
    display_names = {f"{u['firstname']} {u['lastname']}" for u in cv_user.values()}
    assignees = Counter()
    for issue in issues:
        f = issue["fields"]
        a = f["assignee"]
        assignees[a["displayName"]] += 1
        check(a["displayName"] in display_names, f"{issue['key']}: assignee {a['displayName']} has no CV")
        if "emailAddress" in a:
            check(a["emailAddress"].lower() in by_mail, f"{issue['key']}: e-mail not in MOCO")
        check(f["description"]["type"] == "doc" and f["description"]["version"] == 1, f"{issue['key']}: ADF")
        check("2024-01-01" <= f["created"][:10] <= "2026-11-27", f"{issue['key']}: created out of range")
        check(
            (f["resolutiondate"] is None) == (f["status"]["statusCategory"]["key"] != "done"),
            f"{issue['key']}: resolutiondate/status mismatch",
        )
        for field in ("created", "updated"):
            check(TS_RE.fullmatch(f[field]) is not None, f"{issue['key']}: {field} not ISO 8601 + offset")
    print(f"Jira: {len(issues)} issues for {len(assignees)} people")
    for act in activities:
        if act["remote_service"] == "jira":
            check(act["remote_id"] in keys, f"activity {act['id']}: unknown Jira key {act['remote_id']}")

    # ---- gold --------------------------------------------------------------------------------
    gold = load("gold.json") or []
    ids = [q["id"] for q in gold]
    check(len(ids) == len(set(ids)), "gold: duplicate ids")
    check(len(gold) >= 24, "gold: fewer than 24 queries")
    check(sum(q["hard"] for q in gold) >= 13, "gold: fewer than 13 hard queries")
    for q in gold:
        check(set(q) == {"id", "query", "relevance", "hard", "kind"}, f"{q['id']}: unexpected keys")
        check(q["kind"] in KINDS, f"{q['id']}: unknown kind {q['kind']}")
        for name, grade in q["relevance"].items():
            check((CV_DIR / name).exists(), f"{q['id']}: {name} does not exist")
            check(grade in (0, 1, 2, 3), f"{q['id']}: grade {grade}")
        relevant = sum(g >= 2 for g in q["relevance"].values())
        check(1 <= relevant <= 5, f"{q['id']}: {relevant} relevant CVs")
    hard = sum(q["hard"] for q in gold)
    print(f"Gold: {len(gold)} queries, {hard} hard, {dict(Counter(q['kind'] for q in gold))}")

    for e in errors:
        print("ERROR:", e)
    print("OK" if not errors else f"{len(errors)} problem(s)")
    return 1 if errors else 0


def _headers(path: Path):
    for section in docx.Document(str(path)).sections:
        yield from section.header.paragraphs


if __name__ == "__main__":
    sys.exit(main())
