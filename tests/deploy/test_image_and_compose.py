"""The Dockerfile and docker-compose.yml, checked structurally (no container engine runs here): pinned
images, a non-root image user, healthchecks and start order, no secrets in the files, and a .env.example
that lists every setting the code reads and every variable the compose file needs."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from assistant.config import AssistantSettings
from tests.deploy.conftest import COMPOSE, DOCKERFILE, ENV_EXAMPLE, image_user, project_version

LANGFUSE_STACK = {"langfuse-web", "langfuse-worker", "langfuse-postgres", "clickhouse", "redis", "minio"}
SECRET_NAME = re.compile(r"(PASSWORD|SECRET|_KEY|SALT|TOKEN|AUTH)$")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def env_example() -> dict[str, str]:
    """NAME=value lines, commented out (# NAME=value) or not."""
    found: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = re.match(r"^#?\s?([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def test_the_base_image_is_pinned_by_digest_and_the_image_runs_as_a_numeric_user() -> None:
    bases = re.findall(r"^FROM\s+(\S+)", DOCKERFILE.read_text(), flags=re.MULTILINE)
    assert bases
    for base in bases:
        assert re.fullmatch(r"[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}", base), base
    assert image_user() >= 1000


def test_the_stack_has_the_app_its_database_and_langfuse_with_its_own_dependencies(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    assert {"skillmatch", "migrate", "postgres"} | LANGFUSE_STACK <= set(services)


def test_every_image_is_pinned_and_the_app_image_is_the_project_version(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        image = service["image"]
        repository, _, tag = image.rpartition(":")
        assert repository and tag and "latest" not in tag and "$" not in image, (name, image)
        assert not re.fullmatch(r"\d+", tag), f"{name}: {image} names only a major version"
    assert compose["services"]["skillmatch"]["image"].endswith(f":{project_version()}")
    assert compose["services"]["migrate"]["image"] == compose["services"]["skillmatch"]["image"]


def test_long_running_services_have_healthchecks_and_start_in_order(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        if name != "migrate":
            assert service["healthcheck"]["test"], name
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    app = services["skillmatch"]["depends_on"]
    assert app["migrate"]["condition"] == "service_completed_successfully"
    assert app["postgres"]["condition"] == "service_healthy"
    for langfuse in ("langfuse-web", "langfuse-worker"):
        needs = services[langfuse]["depends_on"]
        for dependency in ("langfuse-postgres", "clickhouse", "redis", "minio"):
            assert needs[dependency]["condition"] == "service_healthy", (langfuse, dependency)


def test_the_app_talks_to_the_compose_postgres_and_langfuse(compose: dict[str, Any]) -> None:
    env = compose["services"]["skillmatch"]["environment"]
    assert (
        env["DATABASE_URL"].startswith("postgresql+psycopg://") and "@postgres:5432/" in env["DATABASE_URL"]
    )
    assert env["LANGFUSE_BASE_URL"] == "http://langfuse-web:3000"


def test_no_secret_is_written_into_the_compose_file(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(key):
                assert re.fullmatch(r"\$\{[A-Z0-9_]+(:\?[^}]*)?\}", str(value)), (
                    name,
                    key,
                    "take it from .env",
                )


def test_internal_services_listen_on_localhost_only(compose: dict[str, Any]) -> None:
    public = {"skillmatch", "langfuse-web"}
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert name in public or str(port).startswith("127.0.0.1:"), (name, port)


def test_env_example_lists_every_setting_and_every_compose_variable(compose: dict[str, Any]) -> None:
    listed = env_example()
    settings = {field.alias for field in AssistantSettings.model_fields.values() if field.alias}
    assert settings - set(listed) == set(), "add these settings to .env.example"
    needed = set(re.findall(r"\$\{([A-Z0-9_]+)", COMPOSE.read_text()))
    assert needed - set(listed) == set(), "add these compose variables to .env.example"


def test_env_example_holds_no_real_secret() -> None:
    for name, value in env_example().items():
        if SECRET_NAME.search(name) and value:
            assert "change-me" in value, f"{name} must be empty or a change-me placeholder"
