"""The Teams fakes' fixtures (fake Entra installed for the SDK, fake Bot Connector), shared with the
tests of the fakes themselves."""

from tests.fakes_tests.conftest import connector, entra  # noqa: F401 - pytest fixtures
