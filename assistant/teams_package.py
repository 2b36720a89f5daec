"""The Microsoft Teams app package: `teams/manifest.json` with its placeholders filled in and the two
icons, zipped for upload (Teams admin center, Developer Portal, or "Upload a custom app" in Teams).

    build_package(PackageOptions(app_id=..., bot_id=..., website_url=...), source=Path("teams"),
                  output=Path("skillmatch-teams.zip"))

Placeholders in the template: `${{TEAMS_APP_ID}}`, `${{BOT_ID}}`, `${{APP_VERSION}}`, `${{WEBSITE_URL}}`,
`${{PRIVACY_URL}}`, `${{TERMS_URL}}`; `validDomains` gets the `domains` given.

Everything is checked before anything is written, and every problem is a `PackageError` whose message
says what to do: ids must be GUIDs (the Entra application/client id), the version `MAJOR.MINOR.PATCH`
(Teams only takes an update with a higher one), URLs https, domains bare host names; the template must be
JSON with no placeholder left; `color.png` must be a 192x192 PNG and `outline.png` a 32x32 PNG that is
white on transparent, as Teams requires. The zip holds `manifest.json`, `color.png` and `outline.png` at
its root (Teams rejects a package with folders) with fixed timestamps, so the same inputs give the same
bytes. An existing output file is replaced only after the new package was built completely.
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

MANIFEST = "manifest.json"
COLOR_ICON = "color.png"
OUTLINE_ICON = "outline.png"
ICON_SIZES = {COLOR_ICON: 192, OUTLINE_ICON: 32}  # pixels, square
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can say: builds are reproducible

_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
_HOST = re.compile(r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"\$\{\{([A-Z_]+)\}\}")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class PackageError(ValueError):
    """A problem with the inputs; the message says what to change."""


@dataclass(frozen=True)
class PackageOptions:
    app_id: str  # the Teams app's id; usually the bot's Entra application (client) id
    bot_id: str  # the Azure Bot's Microsoft App ID (Entra application id)
    website_url: str
    privacy_url: str | None = None  # default: website_url
    terms_url: str | None = None  # default: website_url
    version: str = "1.0.0"
    domains: tuple[str, ...] = field(default_factory=tuple)

    def values(self) -> dict[str, str]:
        return {
            "TEAMS_APP_ID": self.app_id,
            "BOT_ID": self.bot_id,
            "APP_VERSION": self.version,
            "WEBSITE_URL": self.website_url,
            "PRIVACY_URL": self.privacy_url or self.website_url,
            "TERMS_URL": self.terms_url or self.website_url,
        }


def check_options(options: PackageOptions) -> None:
    for domain in options.domains:
        if not _HOST.match(domain):
            raise PackageError(
                f"domain {domain!r} must be a host name without scheme or path, e.g. skillmatch.example.com"
            )
    for name, value in (("app id", options.app_id), ("bot id", options.bot_id)):
        if not _GUID.match(value.strip()):
            raise PackageError(
                f"{name} {value!r} is not a GUID: use the Entra application (client) id of the bot, "
                "e.g. 8b4d0a62-2f0e-4c6b-9a1e-5b7d3c2f1a90"
            )
    if not _SEMVER.match(options.version):
        raise PackageError(f"version {options.version!r} must be MAJOR.MINOR.PATCH, e.g. 1.0.1")
    values = options.values()
    for name in ("WEBSITE_URL", "PRIVACY_URL", "TERMS_URL"):
        url = values[name]
        if not re.match(r"^https://[^\s/]+\.[^\s/]+(/\S*)?$", url):
            raise PackageError(f"{name.lower().replace('_', ' ')} {url!r} must be an https:// URL")


def render_manifest(template: str, options: PackageOptions) -> dict[str, Any]:
    """The template with every placeholder replaced and `validDomains` set; PackageError if it is not
    JSON or names a placeholder this packager does not know."""
    check_options(options)
    values = options.values()
    unknown = sorted({m for m in _PLACEHOLDER.findall(template) if m not in values})
    if unknown:
        raise PackageError(f"{MANIFEST} has placeholders this command does not fill: {', '.join(unknown)}")
    # Values go in JSON-escaped, so a URL can never break the document's syntax.
    filled = _PLACEHOLDER.sub(lambda m: json.dumps(values[m[1]])[1:-1], template)
    try:
        manifest = json.loads(filled)
    except ValueError as exc:
        raise PackageError(f"{MANIFEST} is not valid JSON ({exc}); fix the template") from None
    if not isinstance(manifest, dict):
        raise PackageError(f"{MANIFEST} must hold a JSON object")
    manifest["validDomains"] = sorted(set(manifest.get("validDomains") or []) | set(options.domains))
    return manifest


def png_size(data: bytes) -> tuple[int, int]:
    if data[:8] != _PNG_SIGNATURE or data[12:16] != b"IHDR":
        raise PackageError("not a PNG file")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def png_pixels(data: bytes) -> list[tuple[int, int, int, int]]:
    """RGBA pixels of an 8-bit RGB or RGBA, non-interlaced PNG (what icon editors write)."""
    width, height = png_size(data)
    depth, colour_type, interlace = data[24], data[25], data[28]
    channels = {2: 3, 6: 4}.get(colour_type)
    if depth != 8 or channels is None or interlace:
        raise PackageError("use an 8-bit RGB or RGBA PNG without interlacing")
    raw, position = b"", 8
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        if kind == b"IDAT":
            raw += data[position + 8 : position + 8 + length]
        position += 12 + length
    stream = zlib.decompress(raw)
    stride = width * channels
    pixels: list[tuple[int, int, int, int]] = []
    previous = bytearray(stride)
    for row in range(height):
        start = row * (stride + 1)
        line = _unfilter(stream[start], bytearray(stream[start + 1 : start + 1 + stride]), previous, channels)
        for x in range(0, stride, channels):
            r, g, b = line[x : x + 3]
            pixels.append((r, g, b, line[x + 3] if channels == 4 else 255))
        previous = line
    return pixels


def _unfilter(kind: int, line: bytearray, previous: bytearray, bpp: int) -> bytearray:
    for i in range(len(line)):
        left = line[i - bpp] if i >= bpp else 0
        up, up_left = previous[i], previous[i - bpp] if i >= bpp else 0
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 2:
            line[i] = (line[i] + up) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + (left + up) // 2) & 0xFF
        elif kind == 4:
            p = left + up - up_left
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
            predictor = left if pa <= pb and pa <= pc else up if pb <= pc else up_left
            line[i] = (line[i] + predictor) & 0xFF
        elif kind != 0:
            raise PackageError(f"PNG filter type {kind} is not defined")
    return line


def check_icon(name: str, data: bytes) -> None:
    size = ICON_SIZES[name]
    try:
        width, height = png_size(data)
        if (width, height) != (size, size):
            raise PackageError(f"is {width}x{height} pixels")
        if name == OUTLINE_ICON:
            pixels = png_pixels(data)
            if all(a == 255 for *_, a in pixels):
                raise PackageError("has no transparency")
            if any(a and (r, g, b) != (255, 255, 255) for r, g, b, a in pixels):
                raise PackageError("has colours other than white")
    except (PackageError, zlib.error, struct.error, IndexError) as exc:
        kind = "white-on-transparent " if name == OUTLINE_ICON else ""
        raise PackageError(f"{name}: {exc}; Teams needs a {size}x{size} {kind}PNG") from None


def build_package(options: PackageOptions, *, source: Path, output: Path) -> dict[str, Any]:
    """Write the zip to `output` and return the manifest it contains."""
    try:
        template = (source / MANIFEST).read_text(encoding="utf-8")
        icons = {name: (source / name).read_bytes() for name in ICON_SIZES}
    except FileNotFoundError as exc:
        raise PackageError(
            f"{exc.filename} not found: pass --source with the folder holding {MANIFEST}, "
            f"{COLOR_ICON} and {OUTLINE_ICON} (the repository's teams/)"
        ) from None
    manifest = render_manifest(template, options)
    bots = manifest.get("bots") or [{}]
    if manifest.get("id") != options.app_id or bots[0].get("botId") != options.bot_id:
        raise PackageError(
            f"{MANIFEST} must use ${{{{TEAMS_APP_ID}}}} as id and ${{{{BOT_ID}}}} as its bot's botId"
        )
    if manifest.get("icons") != {"color": COLOR_ICON, "outline": OUTLINE_ICON}:
        raise PackageError(f'{MANIFEST} must name its icons "{COLOR_ICON}" and "{OUTLINE_ICON}"')
    for name, data in icons.items():
        check_icon(name, data)

    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    entries = [
        (MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False).encode() + b"\n"),
        *icons.items(),
    ]
    try:
        with ZipFile(partial, "w") as archive:
            for name, data in entries:
                info = ZipInfo(name, date_time=ZIP_TIMESTAMP)
                info.compress_type = ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, data)
        partial.replace(output)
    finally:
        partial.unlink(missing_ok=True)
    return manifest
