"""A fake Microsoft identity platform + Graph drive API over HTTPS (msal accepts https authorities only).

    with FakeGraph() as graph:
        cv = graph.add_file("Anna Roth.md", b"# Anna Roth ...", parent=graph.add_folder("CVs"))
        settings = Settings(GRAPH_AUTHORITY_HOST=graph.authority_host, GRAPH_BASE_URL=graph.base_url,
                            SKILLMATCH_HTTP_CA_BUNDLE=graph.ca_file, SHAREPOINT_TENANT_ID=..., ...)

Identity: `/{tenant}/v2.0/.well-known/openid-configuration` and `/{tenant}/oauth2/v2.0/token`
(client credentials). Graph (`/v1.0`, bearer tokens it issued): `drives/{d}/root/delta`,
`drives/{d}/root:/{path}:/delta` with nextLink/deltaLink tokens, deleted items as tombstones,
`require_resync()` makes every deltaLink issued so far answer 410 resyncRequired, and
`drives/{d}/items/{id}/content` redirects (302) to an unauthenticated, pre-signed `/download/...` URL.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote

from tests.fakes.http_server import FakeServer, RecordedRequest, Reply

_DELTA = re.compile(r"^/v1\.0/drives/(?P<drive>[^/]+)/root(?::/(?P<folder>.+):)?/delta$")
_CONTENT = re.compile(r"^/v1\.0/drives/(?P<drive>[^/]+)/items/(?P<item>[^/]+)/content$")
_MEDIA_TYPES = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".md": "text/markdown",
    ".txt": "text/plain",
}
RESYNC_MESSAGE = (
    "Resync required. Replace any local items with the server's version (including deletes) if you're sure "
    "that the service was up to date with your local changes when you last sync'd."
)


@dataclass
class DriveItem:
    id: str
    name: str
    parent: str | None
    folder: bool
    content: bytes
    modified: datetime
    web_url: str
    version: int
    deleted: bool = False


class FakeGraph(FakeServer):
    def __init__(
        self,
        *,
        tenant_id: str = "contoso-tenant",
        client_id: str = "skillmatch-app",
        client_secret: str = "client-secret-value",
        drive_id: str = "b!cv-library",
        page_size: int = 200,
    ) -> None:
        super().__init__(tls=True)
        self.tenant_id = tenant_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.drive_id = drive_id
        self.page_size = page_size
        self.issued_tokens: list[str] = []
        self.token_scopes: list[str] = []
        self._version = 0
        self._resync_epoch = 0
        self._ids = 0
        self._delta_tokens: dict[str, dict[str, Any]] = {}
        self._downloads: dict[str, str] = {}
        self.root_id = "01ROOT"
        self.items: dict[str, DriveItem] = {
            self.root_id: self._new_item(self.root_id, "root", None, folder=True)
        }

    @property
    def authority_host(self) -> str:
        return self.origin

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1.0"

    # -- seeding and changes --

    def add_folder(self, name: str, parent: str | None = None) -> str:
        return self._add(name, parent, folder=True)

    def add_file(
        self,
        name: str,
        data: bytes,
        *,
        parent: str | None = None,
        modified: datetime | None = None,
        web_url: str | None = None,
        item_id: str | None = None,
    ) -> str:
        return self._add(name, parent, content=data, modified=modified, web_url=web_url, item_id=item_id)

    def update_file(self, item_id: str, data: bytes | None = None, *, name: str | None = None) -> None:
        item = self.items[item_id]
        item.content = data if data is not None else item.content
        item.name = name or item.name
        item.modified = datetime.now(UTC)
        item.version = self._bump()

    def delete(self, item_id: str) -> None:
        """Deletes the item and, for a folder, everything below it (each gets its own tombstone)."""
        for child in [i for i in self.items.values() if i.parent == item_id and not i.deleted]:
            self.delete(child.id)
        item = self.items[item_id]
        item.deleted = True
        item.version = self._bump()

    def require_resync(self) -> None:
        """Every deltaLink issued so far now answers 410 resyncRequired, as after a long disconnect."""
        self._resync_epoch += 1

    @property
    def delta_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/delta")]

    # -- routing --

    def route(self, request: RecordedRequest) -> Reply:
        path = request.path
        if path == f"/{self.tenant_id}/v2.0/.well-known/openid-configuration":
            return self._openid_configuration()
        if path == f"/{self.tenant_id}/oauth2/v2.0/token" and request.method == "POST":
            return self._token(request)
        if path.startswith("/download/"):
            return self._download(request)
        if path.startswith("/v1.0/"):
            if request.header("authorization") not in {f"Bearer {t}" for t in self.issued_tokens}:
                return _graph_error(401, "InvalidAuthenticationToken", "Access token validation failure.")
            if m := _DELTA.match(path):
                return self._delta(
                    request, unquote(m["drive"]), unquote(m["folder"]) if m["folder"] else None
                )
            if m := _CONTENT.match(path):
                return self._content(unquote(m["drive"]), unquote(m["item"]))
            return _graph_error(400, "invalidRequest", f"Resource not found for the segment '{path}'.")
        if path.endswith("/v2.0/.well-known/openid-configuration"):  # any other tenant
            return Reply.json(
                {"error": "invalid_tenant", "error_description": "AADSTS90002: Tenant not found."}, 400
            )
        return Reply.json({"error": "not_found"}, 404)

    def error_body(self, status: int) -> bytes:
        return json.dumps(
            {"error": {"code": "injectedFault", "message": f"injected fault {status}"}}
        ).encode()

    # -- identity --

    def _openid_configuration(self) -> Reply:
        tenant = f"{self.origin}/{self.tenant_id}"
        return Reply.json(
            {
                "issuer": f"{tenant}/v2.0",
                "authorization_endpoint": f"{tenant}/oauth2/v2.0/authorize",
                "token_endpoint": f"{tenant}/oauth2/v2.0/token",
                "device_authorization_endpoint": f"{tenant}/oauth2/v2.0/devicecode",
                "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
                "response_types_supported": ["code", "id_token", "token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "tenant_region_scope": "EU",
            }
        )

    def _token(self, request: RecordedRequest) -> Reply:
        form = request.form()
        if form.get("grant_type") != "client_credentials":
            return Reply.json({"error": "unsupported_grant_type", "error_description": "AADSTS70003"}, 400)
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return Reply.json(
                {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret "
                    "being sent in the request is the client secret value, not the client secret ID.",
                    "error_codes": [7000215],
                },
                401,
            )
        scope = form.get("scope", "")
        self.token_scopes.append(scope)
        if not scope.endswith("/.default"):
            return Reply.json({"error": "invalid_scope", "error_description": "AADSTS1002012"}, 400)
        token = f"graph-token-{len(self.issued_tokens) + 1}-{secrets.token_hex(8)}"
        self.issued_tokens.append(token)
        return Reply.json(
            {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token}
        )

    # -- drive --

    def _delta(self, request: RecordedRequest, drive: str, folder: str | None) -> Reply:
        if drive != self.drive_id:
            return _graph_error(404, "itemNotFound", "The resource could not be found.")
        token = request.param("token")
        if token is None or token == "latest":
            scope = self._resolve(folder)
            if scope is None:
                return _graph_error(404, "itemNotFound", "The resource could not be found.")
            if token == "latest":
                return self._page([], 0, scope, self._version, drive)
            return self._page(self._listing(scope, since=None), 0, scope, self._version, drive)
        state = self._delta_tokens.get(token)
        if state is None:
            return _graph_error(400, "invalidRequest", "Invalid delta token.")
        if state["kind"] == "page":
            return self._page(state["ids"], state["offset"], state["scope"], state["version"], drive)
        if state["epoch"] < self._resync_epoch:
            location = f"{self.base_url}/drives/{quote(drive, safe='')}/root/delta"
            reply = _graph_error(410, "resyncRequired", RESYNC_MESSAGE)
            reply.headers["Location"] = location
            return reply
        ids = self._listing(state["scope"], since=state["version"])
        return self._page(ids, 0, state["scope"], self._version, drive)

    def _page(self, ids: list[str], offset: int, scope: str, version: int, drive: str) -> Reply:
        chunk = ids[offset : offset + self.page_size]
        body: dict[str, Any] = {
            "@odata.context": f"{self.base_url}/$metadata#Collection(driveItem)",
            "value": [self._render(self.items[i]) for i in chunk],
        }
        link = f"{self.base_url}/drives/{quote(drive, safe='')}/root/delta?token="
        token = secrets.token_urlsafe(12)
        if offset + self.page_size < len(ids):
            rest = {"ids": ids, "offset": offset + self.page_size, "scope": scope, "version": version}
            self._delta_tokens[token] = {"kind": "page", **rest}
            body["@odata.nextLink"] = link + token
        else:
            self._delta_tokens[token] = {
                "kind": "delta",
                "scope": scope,
                "version": version,
                "epoch": self._resync_epoch,
            }
            body["@odata.deltaLink"] = link + token
        return Reply.json(body)

    def _listing(self, scope: str, since: int | None) -> list[str]:
        """A full round lists what exists (parents first); a delta round what changed, tombstones included."""
        chosen = [
            item
            for item in self.items.values()
            if self._within(item, scope) and (item.version > since if since is not None else not item.deleted)
        ]
        return [item.id for item in sorted(chosen, key=lambda i: (self._depth(i), i.version))]

    def _content(self, drive: str, item_id: str) -> Reply:
        item = self.items.get(item_id)
        if drive != self.drive_id or item is None or item.deleted:
            return _graph_error(404, "itemNotFound", "The resource could not be found.")
        if item.folder:
            return _graph_error(400, "invalidRequest", "Cannot download a folder.")
        ticket = secrets.token_urlsafe(16)
        self._downloads[ticket] = item_id
        return Reply(302, b"", {"Location": f"{self.origin}/download/{quote(item_id)}?tempauth={ticket}"})

    def _download(self, request: RecordedRequest) -> Reply:
        item_id = self._downloads.get(request.param("tempauth") or "")
        if item_id is None or request.path != f"/download/{quote(item_id)}":
            return Reply.json({"error": {"code": "unauthenticated", "message": "Invalid tempauth."}}, 401)
        item = self.items[item_id]
        return Reply(200, item.content, {"Content-Type": "application/octet-stream"})

    # -- internals --

    def _resolve(self, folder: str | None) -> str | None:
        current = self.root_id
        for part in [p for p in (folder or "").split("/") if p]:
            match = [
                i
                for i in self.items.values()
                if i.parent == current and i.name == part and i.folder and not i.deleted
            ]
            if not match:
                return None
            current = match[0].id
        return current

    def _within(self, item: DriveItem, scope: str) -> bool:
        node: DriveItem | None = item
        while node is not None:
            if node.id == scope:
                return True
            node = self.items.get(node.parent) if node.parent else None
        return False

    def _depth(self, item: DriveItem) -> int:
        depth, node = 0, item
        while node.parent:
            depth, node = depth + 1, self.items[node.parent]
        return depth

    def _render(self, item: DriveItem) -> dict[str, Any]:
        parent = {"driveId": self.drive_id, "driveType": "documentLibrary", "id": item.parent}
        if item.deleted:  # SharePoint omits name (and cTag) on deletions
            return {"id": item.id, "parentReference": parent, "deleted": {"state": "deleted"}}
        stamp = item.modified.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        rendered: dict[str, Any] = {
            "id": item.id,
            "name": item.name,
            "eTag": f'"{{{item.id}}},{item.version}"',
            "cTag": f'"c:{{{item.id}}},{item.version}"',
            "createdDateTime": stamp,
            "lastModifiedDateTime": stamp,
            "webUrl": item.web_url,
            "size": len(item.content),
        }
        if item.id == self.root_id:
            rendered["root"] = {}
        else:
            rendered["parentReference"] = parent
        if item.folder:
            rendered["folder"] = {"childCount": sum(1 for i in self.items.values() if i.parent == item.id)}
        else:
            suffix = "." + item.name.rsplit(".", 1)[-1].lower() if "." in item.name else ""
            digest = base64.b64encode(hashlib.sha1(item.content).digest()).decode()
            rendered["file"] = {
                "mimeType": _MEDIA_TYPES.get(suffix, "application/octet-stream"),
                "hashes": {"quickXorHash": digest},
            }
        return rendered

    def _add(
        self,
        name: str,
        parent: str | None,
        *,
        folder: bool = False,
        content: bytes = b"",
        modified: datetime | None = None,
        web_url: str | None = None,
        item_id: str | None = None,
    ) -> str:
        self._ids += 1
        item_id = item_id or f"01ITEM{self._ids:04d}"
        item = self._new_item(item_id, name, parent or self.root_id, folder=folder, content=content)
        item.modified = modified or item.modified
        item.web_url = web_url or item.web_url
        item.version = self._bump()
        self.items[item_id] = item
        return item_id

    def _new_item(
        self, item_id: str, name: str, parent: str | None, *, folder: bool, content: bytes = b""
    ) -> DriveItem:
        return DriveItem(
            id=item_id,
            name=name,
            parent=parent,
            folder=folder,
            content=content,
            modified=datetime.now(UTC),
            web_url=f"https://contoso.sharepoint.com/sites/people/Shared%20Documents/{quote(name)}",
            version=self._version,
        )

    def _bump(self) -> int:
        self._version += 1
        return self._version


def _graph_error(status: int, code: str, message: str) -> Reply:
    return Reply.json(
        {"error": {"code": code, "message": message, "innerError": {"date": "2024-01-01T00:00:00"}}}, status
    )
