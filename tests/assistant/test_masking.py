"""E-mail addresses and phone numbers never leave in traces; dates, ranges and ticket keys stay readable."""

from __future__ import annotations

import pytest

from assistant.masking import mask, mask_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to anna.schmidt@example-consulting.com", "write to [email]"),
        ("call +49 89 5550 1234 today", "call [phone] today"),
        ("Tel. 0171-5550123", "Tel. [phone]"),
        ("(030) 5550 6642", "([phone]"),
        ("0049 30 5550 6642", "[phone]"),
    ],
)
def test_personal_data_is_masked(text: str, expected: str) -> None:
    assert mask_text(text).startswith(expected.split("[")[0])
    assert "@" not in mask_text(text) and "5550" not in mask_text(text)


@pytest.mark.parametrize(
    "text",
    ["2019-2023 at a bank", "on 2024-01-31", "SHOP-1234", "3.5 years", "15.03.2024", "order 12345", "C++17"],
)
def test_ordinary_numbers_stay(text: str) -> None:
    assert mask_text(text) == text


def test_nested_structures_are_masked_and_other_types_kept() -> None:
    data = {
        "messages": [{"content": "mail me: x.y@example.org"}],
        "n": 3,
        "ok": True,
        "t": ("+49 30 5550 1234",),
    }
    masked = mask(data)
    assert masked == {"messages": [{"content": "mail me: [email]"}], "n": 3, "ok": True, "t": ("[phone]",)}
