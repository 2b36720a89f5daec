"""Build the Jira and MOCO fixtures that belong to the sample CVs.

Writes
  skillmatch/sample/jira/issues.json        (Jira Cloud ``GET /rest/api/3/search/jql`` response)
  skillmatch/sample/moco/users.json         (MOCO ``GET /api/v1/users``)
  skillmatch/sample/moco/employments.json   (MOCO ``GET /api/v1/users/employments``)
  skillmatch/sample/moco/planning_entries.json (MOCO ``GET /api/v1/planning_entries``)
  skillmatch/sample/moco/schedules.json     (MOCO ``GET /api/v1/schedules``, absences)
  skillmatch/sample/moco/activities.json    (MOCO ``GET /api/v1/activities``)

Everything is fictional and derived from the tables in ``sample_fixture_data.py``; the output is
deterministic.
The reference date of the dataset is 2026-11-27 ("today").

Usage::

    .venv/bin/python scripts/build_sample_fixtures.py [--check]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

from sample_fixture_data import (
    ABSENCE_TYPES,
    ABSENCES,
    COMPANY,
    EPIPHANY_CITIES,
    EXTRA_USERS,
    PEOPLE,
    PLANNING,
    PROJECTS,
    TICKETS,
    UNITS,
    Person,
)

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "skillmatch" / "sample"
TODAY = dt.date(2026, 11, 27)
BERLIN = ZoneInfo("Europe/Berlin")
JIRA_BASE = "https://example-consulting.atlassian.net"


BY_KEY = {p.key: p for p in PEOPLE}
PROJ = {p.key: p for p in PROJECTS}
CUSTOMER_IDS = {c: 760253000 + i for i, c in enumerate(sorted({p.customer for p in PROJECTS}))}

# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def d(s: str) -> dt.date:
    return dt.date.fromisoformat(s)


def stable_int(*parts: object, mod: int = 1_000_000) -> int:
    h = hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()
    return int(h[:12], 16) % mod


def jira_ts(day: dt.date, salt: str) -> str:
    minutes = 8 * 60 + stable_int("time", salt, mod=9 * 60)  # between 08:00 and 17:00 local time
    local = dt.datetime(
        day.year,
        day.month,
        day.day,
        minutes // 60,
        minutes % 60,
        stable_int("s", salt, mod=60),
        stable_int("ms", salt, mod=1000) * 1000,
        tzinfo=BERLIN,
    )
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond // 1000:03d}" + local.strftime("%z")


def utc_ts(day: dt.date, salt: str) -> str:
    sec = 7 * 3600 + stable_int("utc", salt, mod=10 * 3600)
    return f"{day.isoformat()}T{sec // 3600:02d}:{sec // 60 % 60:02d}:{sec % 60:02d}Z"


def workdays(start: dt.date, end: dt.date):
    day = start
    while day <= end:
        if day.weekday() < 5:
            yield day
        day += dt.timedelta(days=1)


def user_ref(p: Person) -> dict:
    return {"id": moco_user_id(p), "firstname": p.firstname, "lastname": p.lastname}


def moco_user_id(p: Person) -> int:
    return 933590100 + PEOPLE.index(p) * 7


def account_id(p: Person) -> str:
    return "712020:" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"{JIRA_BASE}/people/{p.key}"))


def moco_project_ref(key: str) -> dict:
    proj = PROJ[key]
    return {
        "id": 944587000 + PROJECTS.index(proj) * 13,
        "identifier": f"P2{PROJECTS.index(proj) + 101:04d}",
        "name": proj.name,
        "customer_name": proj.customer,
    }


# --------------------------------------------------------------------------------------------
# Jira
# --------------------------------------------------------------------------------------------

STATUS = {
    "To Do": ("10000", "new", 2, "blue-gray", "To Do"),
    "In Progress": ("3", "indeterminate", 4, "yellow", "In Progress"),
    "In Review": ("10001", "indeterminate", 4, "yellow", "In Progress"),
    "Done": ("10002", "done", 3, "green", "Done"),
}
ISSUE_TYPES = {
    "Epic": ("10000", 1, "A big user story that needs to be broken down."),
    "Story": ("10001", 0, "Functionality or a feature expressed as a user goal."),
    "Task": ("10002", 0, "A small, distinct piece of work."),
    "Bug": ("10004", 0, "A problem or error."),
}
PRIORITIES = ["Medium", "Medium", "High", "Low", "Medium"]
PRIORITY_IDS = {"Highest": "1", "High": "2", "Medium": "3", "Low": "4", "Lowest": "5"}


def jira_status(created: dt.date, resolved: dt.date | None, salt: str) -> str:
    if resolved is not None:
        return "Done"
    age = (TODAY - created).days
    if age < 21:
        return "To Do" if stable_int("st", salt, mod=3) == 0 else "In Progress"
    return "In Review" if stable_int("st", salt, mod=4) == 0 else "In Progress"


def adf(text: str) -> dict:
    content: list[dict] = []
    for block in text.split("\n\n"):
        lines = block.split("\n")
        if all(line.startswith("- ") for line in lines):
            content.append(
                {
                    "type": "bulletList",
                    "content": [
                        {
                            "type": "listItem",
                            "content": [
                                {"type": "paragraph", "content": [{"type": "text", "text": line[2:]}]}
                            ],
                        }
                        for line in lines
                    ],
                }
            )
        else:
            content.append({"type": "paragraph", "content": [{"type": "text", "text": " ".join(lines)}]})
    return {"type": "doc", "version": 1, "content": content}


def avatar_urls(seed: str) -> dict:
    base = f"https://secure.gravatar.com/avatar/{hashlib.md5(seed.encode()).hexdigest()}?d=identicon"
    return {size: f"{base}&s={size.split('x')[0]}" for size in ("48x48", "24x24", "16x16", "32x32")}


def build_jira() -> dict:
    flat = []
    for person_key, tickets in TICKETS.items():
        for t in tickets:
            flat.append((person_key, *t))
    flat.sort(key=lambda t: (t[3], t[1], t[5]))  # by created date

    project_ids = {p.key: str(10000 + i) for i, p in enumerate(PROJECTS)}
    counters: dict[str, int] = {}
    issues = []
    for n, (
        person_key,
        proj_key,
        itype,
        created_s,
        resolved_s,
        summary,
        desc,
        labels,
        components,
    ) in enumerate(flat):
        person = BY_KEY[person_key]
        counters[proj_key] = counters.get(proj_key, 100 + stable_int("start", proj_key, mod=150)) + 1
        key = f"{proj_key}-{counters[proj_key]}"
        created, resolved = d(created_s), (d(resolved_s) if resolved_s else None)
        status_name = jira_status(created, resolved, key)
        sid, cat_key, cat_id, color, cat_name = STATUS[status_name]
        if resolved:
            updated = resolved + dt.timedelta(days=stable_int("upd", key, mod=3))
        else:
            updated = min(TODAY, created + dt.timedelta(days=3 + stable_int("upd", key, mod=40)))
        issue_id = str(20100 + n * 3)
        type_id, level, type_desc = ISSUE_TYPES[itype]
        avatar_id = 10300 + int(type_id) % 100
        prio = "High" if itype == "Bug" else PRIORITIES[stable_int("prio", key, mod=len(PRIORITIES))]
        assignee = {
            "self": f"{JIRA_BASE}/rest/api/3/user?accountId={account_id(person)}",
            "accountId": account_id(person),
            "avatarUrls": avatar_urls(person.email),
            "displayName": person.name,
            "active": True,
            "timeZone": "Europe/Vienna"
            if person.city == "Wien"
            else "Europe/Zurich"
            if person.city == "Zürich"
            else "Europe/Berlin",
            "accountType": "atlassian",
        }
        if not person.jira_email_hidden:
            assignee["emailAddress"] = person.email
            # keep the documented key order: accountId, emailAddress, avatarUrls, ...
            assignee = {
                k: assignee[k]
                for k in (
                    "self",
                    "accountId",
                    "emailAddress",
                    "avatarUrls",
                    "displayName",
                    "active",
                    "timeZone",
                    "accountType",
                )
            }
        proj = PROJ[proj_key]
        fields = {
            "summary": summary,
            "description": adf(desc),
            "status": {
                "self": f"{JIRA_BASE}/rest/api/3/status/{sid}",
                "description": "",
                "iconUrl": f"{JIRA_BASE}/",
                "name": status_name,
                "id": sid,
                "statusCategory": {
                    "self": f"{JIRA_BASE}/rest/api/3/statuscategory/{cat_id}",
                    "id": cat_id,
                    "key": cat_key,
                    "colorName": color,
                    "name": cat_name,
                },
            },
            "issuetype": {
                "self": f"{JIRA_BASE}/rest/api/3/issuetype/{type_id}",
                "id": type_id,
                "description": type_desc,
                "iconUrl": f"{JIRA_BASE}/rest/api/2/universal_avatar/view/type/issuetype/avatar/{avatar_id}",
                "name": itype,
                "subtask": False,
                "avatarId": avatar_id,
                "hierarchyLevel": level,
            },
            "project": {
                "self": f"{JIRA_BASE}/rest/api/3/project/{project_ids[proj_key]}",
                "id": project_ids[proj_key],
                "key": proj_key,
                "name": proj.jira_name,
                "projectTypeKey": "software",
                "simplified": False,
                "avatarUrls": {
                    "48x48": f"{JIRA_BASE}/rest/api/3/universal_avatar/view/type/project/avatar/10411",
                },
            },
            "labels": labels,
            "components": [
                {
                    "self": f"{JIRA_BASE}/rest/api/3/component/{10500 + stable_int(proj_key, c, mod=400)}",
                    "id": str(10500 + stable_int(proj_key, c, mod=400)),
                    "name": c,
                }
                for c in components
            ],
            "assignee": assignee,
            "priority": {
                "self": f"{JIRA_BASE}/rest/api/3/priority/{PRIORITY_IDS[prio]}",
                "iconUrl": f"{JIRA_BASE}/images/icons/priorities/{prio.lower()}.svg",
                "name": prio,
                "id": PRIORITY_IDS[prio],
            },
            "created": jira_ts(created, key + "c"),
            "updated": jira_ts(updated, key + "u"),
            "resolutiondate": jira_ts(resolved, key + "r") if resolved else None,
        }
        if resolved:
            fields["resolution"] = {
                "self": f"{JIRA_BASE}/rest/api/3/resolution/10000",
                "id": "10000",
                "description": "Work has been completed on this issue.",
                "name": "Done",
            }
        else:
            fields["resolution"] = None
        issues.append(
            {
                "expand": "operations,versionedRepresentations,editmeta,changelog,renderedFields",
                "id": issue_id,
                "self": f"{JIRA_BASE}/rest/api/3/issue/{issue_id}",
                "key": key,
                "fields": fields,
            }
        )
    issues.sort(key=lambda i: i["fields"]["updated"], reverse=True)  # JQL: ORDER BY updated DESC
    return {"issues": issues, "isLast": True}


# --------------------------------------------------------------------------------------------
# MOCO
# --------------------------------------------------------------------------------------------


def build_users() -> list[dict]:
    users = []
    for p in PEOPLE:
        joined = d(p.joined)
        users.append(
            {
                "id": moco_user_id(p),
                "firstname": p.firstname,
                "lastname": p.lastname,
                "active": True,
                "extern": False,
                "email": p.moco_email or p.email,
                "mobile_phone": "",
                "work_phone": p.phone,
                "home_address": "",
                "info": "",
                "birthday": "",
                "avatar_url": None,
                "tags": [],
                "custom_properties": {"Standort": p.city},
                "unit": {"id": UNITS[p.unit], "name": p.unit},
                "created_at": utc_ts(joined - dt.timedelta(days=10), p.key + "uc"),
                "updated_at": utc_ts(
                    dt.date(2026, 5, 1) + dt.timedelta(days=stable_int("uu", p.key, mod=180)), p.key + "uu"
                ),
            }
        )
    for i, extra in enumerate(EXTRA_USERS):
        joined = d(extra["joined"])
        users.append(
            {
                "id": 933590900 + i * 7,
                "firstname": extra["firstname"],
                "lastname": extra["lastname"],
                "active": extra["active"],
                "extern": False,
                "email": extra["email"],
                "mobile_phone": "",
                "work_phone": "",
                "home_address": "",
                "info": "" if extra["active"] else "Ausgeschieden zum 30.06.2025",
                "birthday": "",
                "avatar_url": None,
                "tags": [],
                "custom_properties": {"Standort": "Hamburg"},
                "unit": {"id": UNITS[extra["unit"]], "name": extra["unit"]},
                "created_at": utc_ts(joined, extra["lastname"]),
                "updated_at": utc_ts(
                    dt.date(2025, 6, 30) if not extra["active"] else dt.date(2026, 3, 2),
                    extra["lastname"] + "u",
                ),
            }
        )
    return users


def pattern_for(hours: float) -> dict:
    if hours >= 40:
        return {"am": [4, 4, 4, 4, 4], "pm": [4, 4, 4, 4, 4]}
    if hours == 20:
        return {"am": [4, 4, 4, 4, 4], "pm": [0, 0, 0, 0, 0]}
    raise ValueError(hours)


def build_employments() -> list[dict]:
    out = []
    n = 0
    for p in PEOPLE:
        periods = p.employments or [(p.joined, None, 40.0)]
        for start, end, hours in periods:
            out.append(
                {
                    "id": 982300000 + n * 11,
                    "weekly_target_hours": hours,
                    "pattern": pattern_for(hours),
                    "from": start,
                    "to": end,
                    "user": user_ref(p),
                    "created_at": utc_ts(d(start) - dt.timedelta(days=14), f"{p.key}{start}e"),
                    "updated_at": utc_ts(d(start) - dt.timedelta(days=14), f"{p.key}{start}e"),
                }
            )
            n += 1
    return out


def build_planning() -> list[dict]:
    out = []
    for n, (pk, proj_key, start, end, hours, tentative, comment) in enumerate(PLANNING):
        p = BY_KEY[pk]
        # Bookings are entered weeks ahead; nothing can be created after "today".
        created = min(
            d(start) - dt.timedelta(days=20 + stable_int("pc", n, mod=40)),
            TODAY - dt.timedelta(days=5 + stable_int("pc", n, mod=60)),
        )
        entry = {
            "id": 4839000 + n * 17,
            "title": None,
            "starts_on": start,
            "ends_on": end,
            "hours_per_day": float(hours),
            "comment": comment,
            "symbol": None,
            "color": "#2965cc",
            "read_only": False,
            "tentative": tentative,
            "user": user_ref(p),
            "project": None,
            "deal": None,
            "series_id": None,
            "series_repeat": None,
            "created_at": utc_ts(created, f"pl{n}"),
            "updated_at": utc_ts(
                min(created + dt.timedelta(days=stable_int("pu", n, mod=60)), TODAY - dt.timedelta(days=1)),
                f"plu{n}",
            ),
        }
        if proj_key.startswith("DEAL:"):
            entry["title"] = proj_key[5:]
            entry["deal"] = {"id": 27281000 + n, "name": proj_key[5:]}
            entry["color"] = "#c0c0c0"
            entry["symbol"] = 10
        else:
            entry["project"] = moco_project_ref(proj_key)
            entry["color"] = PROJ[proj_key].color
            if PROJ[proj_key].key == "INTIT":
                entry["symbol"] = 2
        out.append(entry)
    return out


def build_schedules() -> list[dict]:
    rows: list[tuple[dt.date, Person, str, str, bool, bool]] = []
    for p in PEOPLE:
        holidays = [dt.date(2026, 12, 25), dt.date(2027, 1, 1)]
        if p.city in EPIPHANY_CITIES:
            holidays.append(dt.date(2027, 1, 6))
        rows += [(h, p, "Feiertag", "", True, True) for h in holidays]
    for pk, start, end, kind, comment, am, pm in ABSENCES:
        for day in workdays(d(start), d(end)):
            rows.append((day, BY_KEY[pk], kind, comment, am, pm))
    rows.sort(key=lambda r: (r[0], PEOPLE.index(r[1])))
    out = []
    for n, (day, p, kind, comment, am, pm) in enumerate(rows):
        aid, color = ABSENCE_TYPES[kind]
        entered = day - dt.timedelta(days=(2 if kind == "Krankheit" else 30) + stable_int("sc", n, mod=20))
        if kind == "Krankheit":
            entered = day
        entered = min(entered, TODAY - dt.timedelta(days=1 + stable_int("sc2", n, mod=10)))
        out.append(
            {
                "id": 123400 + n * 3,
                "date": day.isoformat(),
                "comment": comment,
                "am": am,
                "pm": pm,
                "symbol": None,
                "assignment": {
                    "id": aid,
                    "name": kind,
                    "customer_name": COMPANY,
                    "color": color,
                    "type": "Absence",
                },
                "user": user_ref(p),
                "created_at": utc_ts(entered, f"sc{n}"),
                "updated_at": utc_ts(entered, f"sc{n}"),
            }
        )
    return out


TASKS = {
    "dev": "Entwicklung",
    "consulting": "Beratung",
    "pm": "Projektmanagement",
    "ops": "Betrieb",
}
ROLE_TASK = {
    "Agile & Delivery": "pm",
    "Architecture": "consulting",
    "UX & Design": "consulting",
    "Interne IT": "ops",
}
NON_JIRA_ACTIVITY = {
    "markus": ["Sprint Planning und Retrospektive Team Schaden", "Scrum of Scrums, Nexus-Refinement"],
    "laura": ["Daily, Review und Retrospektive", "Refinement mit zwei Teams vorbereitet"],
    "julia": ["Backlog refinement checkout team", "Stakeholder review payment options"],
    "florian": ["Lenkungsausschuss E-Akte vorbereitet", "Abstimmung Rollout Dienststellen"],
    "thomas": ["Steering committee WMS rollout", "Vendor status meeting and risk review"],
    "sabine": ["PI Planning facilitation", "Coaching session RTE"],
    "tobias": ["Architecture board", "Review landing zone guardrails"],
    "kevin": ["Notebook-Rollout und Benutzerverwaltung", "Ticketbearbeitung 1st Level"],
}
# People booked at most 4 h/day never log more than that on one ticket per day.
HALF_BOOKED = {"claudia", "lena", "andreas", "oezlem", "hannah", "sabine", "tobias"}
ACTIVITY_TASK = {
    "andreas": "consulting",
    "oezlem": "consulting",
    "claudia": "ops",
    "christian": "ops",
    "daniel": "ops",
}
RATES = {"dev": 105, "consulting": 135, "pm": 120, "ops": 95}


def build_activities(jira: dict) -> list[dict]:
    window_start, window_end = dt.date(2026, 6, 1), TODAY - dt.timedelta(days=1)
    email_to_person = {p.email: p for p in PEOPLE}
    name_to_person = {p.name: p for p in PEOPLE}
    plan_project = {pk: proj for pk, proj, *_ in PLANNING if not proj.startswith("DEAL:")}
    absent = {(BY_KEY[pk], day) for pk, s, e, *_ in ABSENCES for day in workdays(d(s), d(e))}
    rows = []
    for issue in jira["issues"]:
        f = issue["fields"]
        person = (
            email_to_person.get(f["assignee"].get("emailAddress", ""))
            or name_to_person[f["assignee"]["displayName"]]
        )
        created = dt.date.fromisoformat(f["created"][:10])
        end = dt.date.fromisoformat(f["resolutiondate"][:10]) if f["resolutiondate"] else window_end
        start, end = max(created, window_start), min(end, window_end)
        days = [x for x in workdays(start, end) if (person, x) not in absent]
        if not days:
            continue
        picks = sorted({days[stable_int(issue["key"], i, mod=len(days))] for i in range(min(4, len(days)))})
        for day in picks:
            hours = [1.5, 2.0, 3.0, 4.0, 2.5, 6.0][stable_int("h", issue["key"], day, mod=6)]
            if person.key in HALF_BOOKED:
                hours = min(hours, 4.0)
            task = ACTIVITY_TASK.get(person.key, "dev")
            rows.append((day, person, f["project"]["key"], task, hours, f["summary"], issue["key"]))
    for pk, texts in NON_JIRA_ACTIVITY.items():
        p = BY_KEY[pk]
        task = ROLE_TASK.get(p.unit, "consulting")
        for i, day in enumerate(workdays(dt.date(2026, 10, 5), dt.date(2026, 11, 20))):
            if day.weekday() in (1, 3) and (p, day) not in absent:
                rows.append(
                    (day, p, plan_project[pk], task, [3.0, 4.0, 2.0][i % 3], texts[i % len(texts)], None)
                )
    rows.sort(key=lambda r: (r[0], PEOPLE.index(r[1]), r[6] or ""))
    out = []
    for n, (day, p, proj_key, task, hours, desc, remote) in enumerate(rows):
        proj = PROJ[proj_key]
        pref = moco_project_ref(proj_key)
        billable = proj.billable
        created = utc_ts(day, f"a{n}")
        out.append(
            {
                "id": 988913000 + n * 5,
                "date": day.isoformat(),
                "hours": hours,
                "seconds": int(hours * 3600),
                "worked_seconds": int(hours * 3600),
                "description": desc,
                "billed": billable and day < dt.date(2026, 10, 1),
                "invoice_id": (4410000 + day.month) if billable and day < dt.date(2026, 10, 1) else None,
                "billable": billable,
                "tag": "",
                "remote_service": "jira" if remote else None,
                "remote_id": remote,
                "remote_url": f"{JIRA_BASE}/browse/{remote}" if remote else None,
                "project": {"id": pref["id"], "name": proj.name, "billable": billable},
                "task": {
                    "id": pref["id"] % 1000000 + list(TASKS).index(task) + 1,
                    "name": TASKS[task],
                    "billable": billable,
                },
                "customer": {"id": CUSTOMER_IDS[proj.customer], "name": proj.customer},
                "user": user_ref(p),
                "hourly_rate": RATES[task] if billable else 0,
                "timer_started_at": None,
                "created_at": created,
                "updated_at": created,
            }
        )
    return out


def dump(obj) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def build_all() -> dict[Path, bytes]:
    jira = build_jira()
    return {
        SAMPLE / "jira" / "issues.json": dump(jira),
        SAMPLE / "moco" / "users.json": dump(build_users()),
        SAMPLE / "moco" / "employments.json": dump(build_employments()),
        SAMPLE / "moco" / "planning_entries.json": dump(build_planning()),
        SAMPLE / "moco" / "schedules.json": dump(build_schedules()),
        SAMPLE / "moco" / "activities.json": dump(build_activities(jira)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only verify that the files are up to date")
    args = parser.parse_args(argv)
    outputs = build_all()
    stale = [p for p, data in outputs.items() if not p.exists() or p.read_bytes() != data]
    if args.check:
        for p in stale:
            print(f"out of date: {p.relative_to(REPO)}")
        return 1 if stale else 0
    for path, data in outputs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    print(f"wrote {len(outputs)} files ({len(stale)} changed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
