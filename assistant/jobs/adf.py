"""Building Atlassian Document Format (Jira Cloud's rich text) from plain values.

Only nodes and marks every Jira Cloud site renders: headings, paragraphs, lists, rules, panels; strong,
em, code and link marks. Text nodes are never empty (Jira rejects them) and control characters are
dropped; links are only made for http(s) URLs, anything else stays plain text.
"""

from __future__ import annotations

import re
from typing import Any

Node = dict[str, Any]
Inline = Node | str  # a str is plain text

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def doc(*blocks: Node) -> Node:
    return {"type": "doc", "version": 1, "content": [b for b in blocks if b]}


def text(value: str, *marks: str, href: str | None = None) -> Node | None:
    cleaned = _CONTROL.sub("", value)
    if not cleaned:
        return None
    node: Node = {"type": "text", "text": cleaned}
    mark_nodes: list[Node] = [{"type": m} for m in marks]
    if href and re.match(r"^https?://\S+$", href):
        mark_nodes.append({"type": "link", "attrs": {"href": href}})
    if mark_nodes:
        node["marks"] = mark_nodes
    return node


def strong(value: str) -> Node | None:
    return text(value, "strong")


def em(value: str) -> Node | None:
    return text(value, "em")


def link(value: str, href: str | None) -> Node | None:
    return text(value, href=href)


def _inline(parts: tuple[Inline | None, ...]) -> list[Node]:
    nodes: list[Node] = []
    for part in parts:
        node = text(part) if isinstance(part, str) else part
        if node is None:
            continue
        # Adjacent plain texts merge: the same document always serialises the same way.
        if (
            nodes
            and "marks" not in nodes[-1]
            and "marks" not in node
            and node["type"] == nodes[-1]["type"] == "text"
        ):
            nodes[-1] = {"type": "text", "text": nodes[-1]["text"] + node["text"]}
        else:
            nodes.append(node)
    return nodes


def paragraph(*parts: Inline | None) -> Node:
    return {"type": "paragraph", "content": _inline(parts)}


def heading(level: int, *parts: Inline | None) -> Node:
    return {"type": "heading", "attrs": {"level": level}, "content": _inline(parts)}


def bullet_list(*items: list[Node]) -> Node | None:
    return _list("bulletList", items)


def ordered_list(*items: list[Node]) -> Node | None:
    return _list("orderedList", items)


def _list(kind: str, items: tuple[list[Node], ...]) -> Node | None:
    kept = [[block for block in item if block] for item in items]
    kept = [item for item in kept if item]
    if not kept:
        return None
    return {"type": kind, "content": [{"type": "listItem", "content": item} for item in kept]}


def rule() -> Node:
    return {"type": "rule"}


def panel(kind: str, *blocks: Node | None) -> Node:
    """kind: info, note, warning, success, error."""
    return {"type": "panel", "attrs": {"panelType": kind}, "content": [b for b in blocks if b]}
