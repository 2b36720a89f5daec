"""A fake MOCO API (`/api/v1`): users, employments, planning entries, schedules, activities.

    with FakeMoco() as moco:
        moco.seed(users=[moco_user(1, "Anna", "Roth")], schedules=[...])
        settings = Settings(MOCO_BASE_URL=moco.base_url, MOCO_API_KEY=moco.api_key)

Records are wire-format dicts (e.g. the sample dataset's). Paging as MOCO does it: `page` parameter,
`X-Page`/`X-Per-Page`/`X-Total` and a `Link` header with rel="next" while more pages exist.
Filters: `updated_after` (strictly after), `include_archived` (users), `user_id`, `from`/`to`
(activities, schedules) and `period=from:to` (planning entries, overlapping).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from tests.fakes.http_server import FakeServer, RecordedRequest, Reply

RESOURCES = ("users", "users/employments", "planning_entries", "schedules", "activities")
_DATE_FIELD = {"activities": "date", "schedules": "date"}


def moco_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _user_ref(user_id: int, firstname: str = "Max", lastname: str = "Muster") -> dict[str, Any]:
    return {"id": user_id, "firstname": firstname, "lastname": lastname}


def moco_user(
    user_id: int,
    firstname: str,
    lastname: str,
    *,
    email: str | None = None,
    active: bool = True,
    external: bool = False,
    updated: datetime | None = None,
) -> dict[str, Any]:
    stamp = moco_time(updated or datetime(2024, 1, 2, tzinfo=UTC))
    return {
        "id": user_id,
        "firstname": firstname,
        "lastname": lastname,
        "active": active,
        "external": external,
        "email": email or f"{firstname}.{lastname}@example.com".lower(),
        "unit": {"id": 1, "name": "Consulting"},
        "created_at": stamp,
        "updated_at": stamp,
    }


def planning_entry(
    entry_id: int, user_id: int, starts_on: str, ends_on: str, *, hours_per_day: float = 8.0,
    project: str = "Website Relaunch", customer: str = "Beispiel AG", tentative: bool = False,
    updated: datetime | None = None,
) -> dict[str, Any]:  # fmt: skip
    stamp = moco_time(updated or datetime(2024, 1, 2, tzinfo=UTC))
    return {
        "id": entry_id,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "hours_per_day": hours_per_day,
        "comment": "",
        "symbol": None,
        "color": "#2965cc",
        "read_only": False,
        "tentative": tentative,
        "user": _user_ref(user_id),
        "project": {"id": 4553, "identifier": "P130", "name": project, "customer_name": customer},
        "created_at": stamp,
        "updated_at": stamp,
    }


def employment(
    employment_id: int, user_id: int, *, weekly_target_hours: float = 40.0, start: str = "2020-01-01",
    end: str | None = None, updated: datetime | None = None,
) -> dict[str, Any]:  # fmt: skip
    stamp = moco_time(updated or datetime(2024, 1, 2, tzinfo=UTC))
    hours = weekly_target_hours / 10
    return {
        "id": employment_id,
        "weekly_target_hours": weekly_target_hours,
        "pattern": {"am": [hours] * 5, "pm": [hours] * 5},
        "from": start,
        "to": end,
        "user": _user_ref(user_id),
        "created_at": stamp,
        "updated_at": stamp,
    }


def absence(
    schedule_id: int, user_id: int, day: str, *, reason: str = "Urlaub", comment: str = "",
    am: bool = True, pm: bool = True, updated: datetime | None = None,
) -> dict[str, Any]:  # fmt: skip
    stamp = moco_time(updated or datetime(2024, 1, 2, tzinfo=UTC))
    return {
        "id": schedule_id,
        "date": day,
        "comment": comment,
        "am": am,
        "pm": pm,
        "symbol": None,
        "assignment": {
            "id": 789,
            "name": reason,
            "customer_name": "Beispiel GmbH",
            "color": "#BBB",
            "type": "Absence",
        },
        "user": _user_ref(user_id),
        "created_at": stamp,
        "updated_at": stamp,
    }


def activity(
    activity_id: int, user_id: int, day: str, hours: float, *, remote_id: str | None = None,
    project: str = "Website Relaunch", task: str = "Development", description: str = "Work",
    updated: datetime | None = None,
) -> dict[str, Any]:  # fmt: skip
    stamp = moco_time(updated or datetime(2024, 1, 2, tzinfo=UTC))
    return {
        "id": activity_id,
        "date": day,
        "hours": hours,
        "seconds": int(hours * 3600),
        "description": description,
        "billed": False,
        "billable": True,
        "tag": "",
        "remote_service": "jira" if remote_id else None,
        "remote_id": remote_id,
        "remote_url": f"https://example.atlassian.net/browse/{remote_id}" if remote_id else None,
        "project": {"id": 944587499, "name": project, "billable": True},
        "task": {"id": 658636, "name": task, "billable": True},
        "customer": {"id": 760253684, "name": "Beispiel AG"},
        "user": _user_ref(user_id),
        "hourly_rate": 150,
        "timer_started_at": None,
        "created_at": stamp,
        "updated_at": stamp,
    }


class FakeMoco(FakeServer):
    def __init__(self, *, api_key: str = "moco-api-key", per_page: int = 100) -> None:
        super().__init__()
        self.api_key = api_key
        self.per_page = per_page
        self.data: dict[str, dict[int, dict[str, Any]]] = {name: {} for name in RESOURCES}

    @property
    def base_url(self) -> str:
        return f"{self.origin}/api/v1"

    # -- seeding --

    def seed(
        self,
        *,
        users: Iterable[dict[str, Any]] = (),
        employments: Iterable[dict[str, Any]] = (),
        planning_entries: Iterable[dict[str, Any]] = (),
        schedules: Iterable[dict[str, Any]] = (),
        activities: Iterable[dict[str, Any]] = (),
    ) -> None:
        for resource, records in (
            ("users", users),
            ("users/employments", employments),
            ("planning_entries", planning_entries),
            ("schedules", schedules),
            ("activities", activities),
        ):
            self.add(resource, records)

    def add(self, resource: str, records: Iterable[dict[str, Any]]) -> None:
        for record in records:
            self.data[resource][int(record["id"])] = json.loads(json.dumps(record))

    def update(
        self, resource: str, record_id: int, *, updated: datetime | None = None, **changes: Any
    ) -> None:
        """Change a record and stamp `updated_at` now, as MOCO does on every write."""
        record = self.data[resource][record_id]
        record.update(changes)
        record["updated_at"] = moco_time(updated or datetime.now(UTC))

    def delete(self, resource: str, record_id: int) -> None:
        del self.data[resource][record_id]

    def requests_for(self, resource: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == f"/api/v1/{resource}"]

    # -- the API --

    def error_body(self, status: int) -> bytes:
        return json.dumps({"message": f"injected fault {status}"}).encode()

    def route(self, request: RecordedRequest) -> Reply:
        if request.header("authorization") not in (
            f"Token token={self.api_key}",
            f'Token token="{self.api_key}"',
        ):
            return Reply.json({"message": "Unauthorized"}, 401)
        resource = request.path.removeprefix("/api/v1/").removesuffix(".json").strip("/")
        if resource not in self.data or request.method != "GET":
            return Reply.json({"message": "Not found"}, 404)
        records = sorted(self.data[resource].values(), key=lambda r: r["id"])
        records = [r for r in records if self._matches(resource, r, request)]
        page = max(1, int(request.param("page") or 1))
        chunk = records[(page - 1) * self.per_page : page * self.per_page]
        headers = {
            "X-Page": str(page),
            "X-Per-Page": str(self.per_page),
            "X-Total": str(len(records)),
        }
        links = []
        if page * self.per_page < len(records):
            links.append(f'<{self._page_url(request, page + 1)}>; rel="next"')
        last = max(1, -(-len(records) // self.per_page))
        links.append(f'<{self._page_url(request, last)}>; rel="last"')
        headers["Link"] = ", ".join(links)
        return Reply.json(chunk, headers=headers)

    def _page_url(self, request: RecordedRequest, page: int) -> str:
        query = {k: v[-1] for k, v in request.query.items() if k != "page"} | {"page": str(page)}
        return f"{self.origin}{request.path}?{urlencode(query)}"

    def _matches(self, resource: str, record: dict[str, Any], request: RecordedRequest) -> bool:
        updated_after = request.param("updated_after")
        if updated_after and _instant(record["updated_at"]) <= _instant(updated_after):
            return False
        if resource == "users":
            return record.get("active", True) or request.param("include_archived") == "true"
        user_id = request.param("user_id")
        if user_id and str(record["user"]["id"]) != user_id:
            return False
        if resource in _DATE_FIELD:
            day = date.fromisoformat(record[_DATE_FIELD[resource]])
            start, end = request.param("from"), request.param("to")
            if (start and day < date.fromisoformat(start)) or (end and day > date.fromisoformat(end)):
                return False
        period = request.param("period")
        if resource == "planning_entries" and period:
            start, _, end = period.partition(":")
            if record["ends_on"] < start or record["starts_on"] > end:
                return False
        return True


def _instant(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
