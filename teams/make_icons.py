"""Draws the Teams app icons with the standard library alone and writes them beside this script.

    python teams/make_icons.py

- color.png: 192x192, opaque: a white magnifying glass over a person on the accent colour.
- outline.png: 32x32, white on transparent (Teams requires only white and transparency): the same glass.

Shapes are signed-distance functions sampled 4x4 per pixel, so edges are anti-aliased through alpha
(colour) or alpha alone (outline). The output is deterministic; the committed PNGs are its result.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

ACCENT = (0x2D, 0x6A, 0x9F)  # also the manifest's accentColor
WHITE = (0xFF, 0xFF, 0xFF)
SUPERSAMPLE = 4

Shape = Callable[[float, float], bool]  # (x, y) in 0..1 -> inside?


def _glass(with_person: bool) -> Shape:
    """A lens ring with a handle to the lower right; optionally a person (head, shoulders) inside."""
    cx, cy, radius, ring = 0.42, 0.42, 0.27, 0.075

    def inside(x: float, y: float) -> bool:
        distance = math.hypot(x - cx, y - cy)
        if abs(distance - radius) <= ring / 2:
            return True
        # The handle: a thick segment from the ring's edge outwards at 45 degrees.
        ux, uy = math.sqrt(0.5), math.sqrt(0.5)
        start = radius + ring / 2 - 0.01
        along = (x - cx) * ux + (y - cy) * uy
        across = abs(-(x - cx) * uy + (y - cy) * ux)
        if start <= along <= start + 0.25 and across <= 0.06:
            return True
        if not with_person or distance >= radius - ring / 2:
            return False
        head = math.hypot(x - cx, y - (cy - 0.07)) <= 0.075
        shoulders = y >= cy + 0.05 and math.hypot((x - cx) / 1.35, y - (cy + 0.2)) <= 0.14
        return head or shoulders

    return inside


def render(
    size: int, shape: Shape, foreground: tuple[int, int, int], background: tuple[int, int, int] | None
) -> bytes:
    """RGBA pixels, row by row: `foreground` where `shape` covers, `background` (or transparent) elsewhere."""
    rows = bytearray()
    step = 1 / (size * SUPERSAMPLE)
    for py in range(size):
        rows.append(0)  # PNG filter type 0 (none) for this scanline
        for px in range(size):
            hits = sum(
                shape((px * SUPERSAMPLE + sx + 0.5) * step, (py * SUPERSAMPLE + sy + 0.5) * step)
                for sy in range(SUPERSAMPLE)
                for sx in range(SUPERSAMPLE)
            )
            coverage = hits / SUPERSAMPLE**2
            if background is None:
                rows += bytes([*foreground, round(255 * coverage)])
            else:
                mixed = (round(b + (f - b) * coverage) for f, b in zip(foreground, background, strict=True))
                rows += bytes([*mixed, 255])
    return bytes(rows)


def png(size: int, rgba_rows: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA, no interlace
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rgba_rows, 9))
        + chunk(b"IEND", b"")
    )


def write_icons(directory: Path) -> None:
    (directory / "color.png").write_bytes(png(192, render(192, _glass(with_person=True), WHITE, ACCENT)))
    (directory / "outline.png").write_bytes(png(32, render(32, _glass(with_person=False), WHITE, None)))


if __name__ == "__main__":
    write_icons(Path(__file__).resolve().parent)
