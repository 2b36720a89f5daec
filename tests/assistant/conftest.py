"""Fixtures for conversation tests live in tests/conftest.py (shared with the Slack tests)."""

from tests.conftest import TODAY

__all__ = ["TODAY"]
