"""The Teams app package: `skillmatch teams-package` fills the manifest template, checks the icons and
writes a zip Teams accepts. The manifest is validated against Microsoft's official JSON schema for its
manifest version (`MicrosoftTeams.v1.30.schema.json` beside this file, from the npm package
`@microsoft/app-manifest` 1.1.2, `build/json-schemas/teams/v1.30/`, MIT licensed)."""

from __future__ import annotations

import importlib.util
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

import assistant.cli_teams  # noqa: F401 - registers `teams-package`
from assistant.teams_package import PackageError, PackageOptions, build_package, png_pixels, png_size
from skillmatch.cli import app

REPO = Path(__file__).resolve().parents[2]
TEAMS = REPO / "teams"
SCHEMA = json.loads((Path(__file__).with_name("MicrosoftTeams.v1.30.schema.json")).read_text())
APP_ID = "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
BOT_ID = "8b4d0a62-2f0e-4c6b-9a1e-5b7d3c2f1a90"
CLIENT_ID = "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID"
runner = CliRunner()


@pytest.fixture(autouse=True)
def _no_bot_identity(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(CLIENT_ID, raising=False)
    monkeypatch.chdir(tmp_path)  # no developer .env


def package(tmp_path: Path, *args: str) -> Any:
    return runner.invoke(app, ["teams-package", "--output", str(tmp_path / "out.zip"), *args])


def contents(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_package_holds_the_filled_manifest_and_icons_at_its_root(tmp_path: Path) -> None:
    result = package(tmp_path, "--app-id", APP_ID, "--bot-id", BOT_ID, "--domain", "skillmatch.example.com")

    assert result.exit_code == 0, result.output
    files = contents(tmp_path / "out.zip")
    assert sorted(files) == ["color.png", "manifest.json", "outline.png"]
    manifest = json.loads(files["manifest.json"])
    assert manifest["id"] == APP_ID
    assert manifest["bots"][0]["botId"] == BOT_ID
    assert manifest["validDomains"] == ["skillmatch.example.com"]
    assert manifest["developer"]["websiteUrl"] == "https://skillmatch.example.com/"
    assert manifest["version"] == "1.0.0"
    assert "${{" not in files["manifest.json"].decode()
    assert files["color.png"] == (TEAMS / "color.png").read_bytes()
    assert files["outline.png"] == (TEAMS / "outline.png").read_bytes()
    assert "upload it in Teams" in result.output


def test_the_manifest_validates_against_microsoft_s_schema_for_its_version(tmp_path: Path) -> None:
    options = PackageOptions(
        APP_ID, BOT_ID, "https://skillmatch.example.com/", domains=("skillmatch.example.com",)
    )
    manifest = build_package(options, source=TEAMS, output=tmp_path / "app.zip")

    assert manifest["manifestVersion"] == SCHEMA["properties"]["manifestVersion"]["const"]
    assert manifest["$schema"].endswith(f"/v{manifest['manifestVersion']}/MicrosoftTeams.schema.json")
    validator = jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    assert [e.message for e in validator.iter_errors(manifest)] == []


def test_the_bot_works_in_personal_chats_teams_and_group_chats_with_help_and_new(tmp_path: Path) -> None:
    manifest = build_package(
        PackageOptions(APP_ID, BOT_ID, "https://skillmatch.example.com/"),
        source=TEAMS,
        output=tmp_path / "a.zip",
    )

    [bot] = manifest["bots"]
    assert set(bot["scopes"]) == {"personal", "team", "groupChat"}
    assert bot["isNotificationOnly"] is False
    for scope in bot["scopes"]:
        commands = [
            c["title"] for lst in bot["commandLists"] if scope in lst["scopes"] for c in lst["commands"]
        ]
        assert commands == ["help", "new"], scope


def test_the_ids_default_to_the_bot_s_client_id_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CLIENT_ID, BOT_ID)

    result = package(tmp_path, "--website-url", "https://intranet.example.com/skillmatch")

    assert result.exit_code == 0, result.output
    manifest = json.loads(contents(tmp_path / "out.zip")["manifest.json"])
    assert (manifest["id"], manifest["bots"][0]["botId"]) == (BOT_ID, BOT_ID)
    assert manifest["validDomains"] == []
    assert manifest["developer"]["privacyUrl"] == "https://intranet.example.com/skillmatch"


def test_the_client_id_is_also_read_from_a_dot_env_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"{CLIENT_ID}={BOT_ID}\n")

    result = package(tmp_path, "--domain", "bot.example.org")

    assert result.exit_code == 0, result.output
    assert json.loads(contents(tmp_path / "out.zip")["manifest.json"])["id"] == BOT_ID


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "no bot id: pass --bot-id"),
        (["--bot-id", "my-bot", "--domain", "a.example.com"], "is not a GUID"),
        (["--bot-id", BOT_ID], "pass --website-url (https) or --domain"),
        (["--bot-id", BOT_ID, "--domain", "https://a.example.com/api"], "must be a host name"),
        (["--bot-id", BOT_ID, "--website-url", "http://a.example.com"], "must be an https:// URL"),
        (
            ["--bot-id", BOT_ID, "--domain", "a.example.com", "--app-version", "2"],
            "must be MAJOR.MINOR.PATCH",
        ),
        (["--bot-id", BOT_ID, "--domain", "a.example.com", "--source", "nowhere"], "pass --source"),
    ],
)
def test_bad_options_get_a_one_line_error_exit_2_and_no_file(
    tmp_path: Path, args: list[str], message: str
) -> None:
    result = package(tmp_path, *args)

    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out.zip").exists()


def copy_of_templates(tmp_path: Path) -> Path:
    source = tmp_path / "teams"
    shutil.copytree(TEAMS, source)
    return source


@pytest.mark.parametrize(
    ("icon", "replacement", "message"),
    [
        ("color.png", "outline.png", "color.png: is 32x32 pixels"),
        ("outline.png", "color.png", "outline.png: is 192x192 pixels"),
        ("outline.png", b"GIF89a not a png", "outline.png: not a PNG file"),
    ],
)
def test_icons_of_the_wrong_size_or_kind_are_refused(
    tmp_path: Path, icon: str, replacement: str | bytes, message: str
) -> None:
    source = copy_of_templates(tmp_path)
    data = replacement if isinstance(replacement, bytes) else (TEAMS / replacement).read_bytes()
    (source / icon).write_bytes(data)

    result = package(tmp_path, "--bot-id", BOT_ID, "--domain", "a.example.com", "--source", str(source))

    assert result.exit_code == 2
    assert message in result.output


def test_an_outline_icon_with_colour_is_refused(tmp_path: Path) -> None:
    make_icons = _make_icons_module()
    source = copy_of_templates(tmp_path)
    coloured = make_icons.render(32, make_icons._glass(with_person=False), make_icons.ACCENT, None)
    (source / "outline.png").write_bytes(make_icons.png(32, coloured))

    with pytest.raises(PackageError, match=r"outline\.png: has colours other than white"):
        build_package(
            PackageOptions(APP_ID, BOT_ID, "https://a.example.com/"), source=source, output=tmp_path / "x.zip"
        )


def test_a_failed_build_leaves_an_existing_package_untouched(tmp_path: Path) -> None:
    output = tmp_path / "out.zip"
    output.write_bytes(b"the previous package")

    result = package(tmp_path, "--bot-id", "not-a-guid", "--domain", "a.example.com")

    assert result.exit_code == 2
    assert output.read_bytes() == b"the previous package"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []


def test_a_template_with_an_unknown_placeholder_is_refused(tmp_path: Path) -> None:
    source = copy_of_templates(tmp_path)
    manifest = (source / "manifest.json").read_text().replace('"SkillMatch Assistant"', '"${{FULL_NAME}}"')
    (source / "manifest.json").write_text(manifest)

    with pytest.raises(PackageError, match="placeholders this command does not fill: FULL_NAME"):
        build_package(
            PackageOptions(APP_ID, BOT_ID, "https://a.example.com/"), source=source, output=tmp_path / "x.zip"
        )


def test_an_output_folder_gets_the_default_file_name_and_builds_are_reproducible(tmp_path: Path) -> None:
    folder = tmp_path / "dist"
    folder.mkdir()
    args = ["teams-package", "--bot-id", BOT_ID, "--domain", "a.example.com", "--output", str(folder)]

    assert runner.invoke(app, args).exit_code == 0
    first = (folder / "skillmatch-teams.zip").read_bytes()
    assert runner.invoke(app, args).exit_code == 0
    assert (folder / "skillmatch-teams.zip").read_bytes() == first


def test_the_committed_icons_meet_teams_rules() -> None:
    color, outline = (TEAMS / "color.png").read_bytes(), (TEAMS / "outline.png").read_bytes()

    assert png_size(color) == (192, 192)
    assert all(a == 255 for *_, a in png_pixels(color)), "the colour icon is opaque"
    assert png_size(outline) == (32, 32)
    pixels = png_pixels(outline)
    assert any(a == 0 for *_, a in pixels) and any(a == 255 for *_, a in pixels)
    assert {(r, g, b) for r, g, b, a in pixels if a} == {(255, 255, 255)}


def test_the_committed_icons_are_what_the_generator_draws(tmp_path: Path) -> None:
    _make_icons_module().write_icons(tmp_path)

    for name in ("color.png", "outline.png"):
        assert (tmp_path / name).read_bytes() == (TEAMS / name).read_bytes(), name


def _make_icons_module() -> Any:
    spec = importlib.util.spec_from_file_location("make_icons", TEAMS / "make_icons.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
