"""build.py helpers: lock rewriting, wheel discovery and cache reuse, on CPython."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest

import build

LOCK = {
    "info": {"abi_version": "2026_0", "python": "3.14.2"},
    "packages": {
        "micropip": {"name": "micropip", "version": "0.11.1", "file_name": "micropip-0.11.1-py3-none-any.whl",
                     "sha256": "0" * 64, "depends": [], "imports": ["micropip"]},
        "packaging": {"name": "packaging", "version": "26.1", "file_name": "packaging-26.1-py3-none-any.whl",
                      "sha256": "1" * 64, "depends": [], "imports": ["packaging"]},
        "numpy": {"name": "numpy", "version": "2.3.0", "file_name": "numpy-2.3.0-cp314-cp314-pyodide_2026_0_wasm32.whl",
                  "sha256": "2" * 64, "depends": [], "imports": ["numpy"]},
    },
}


def make_wheel(directory: Path, file_name: str, top_level: str = "pkg") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / file_name
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{top_level}/__init__.py", "VERSION = 1\n")
    return path


def forbid_tools(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(command, *args, **kwargs):
        raise AssertionError(f"a cached build ran {command}")

    monkeypatch.setattr(build, "run_tool", fail)


def test_parse_wheel_name_normalizes_name() -> None:
    wheel = build.parse_wheel_name(Path("Some_Package-1.2.3-py3-none-any.whl"))

    assert wheel.name == "some-package"
    assert wheel.version == "1.2.3"


def test_parse_wheel_name_rejects_other_files() -> None:
    with pytest.raises(build.BuildError, match="not a wheel file name"):
        build.parse_wheel_name(Path("micropip-0.11.1.tar.gz"))


def test_find_wheel_picks_pure_python_version(tmp_path: Path) -> None:
    make_wheel(tmp_path, "micropip-0.11.0-py3-none-any.whl")
    wanted = make_wheel(tmp_path, "micropip-0.11.1-py3-none-any.whl")
    make_wheel(tmp_path, "micropip-0.11.1-cp314-cp314-pyodide_2026_0_wasm32.whl")

    found = build.find_wheel(tmp_path, "micropip", "0.11.1")

    assert found is not None
    assert found.path == wanted


def test_find_wheel_returns_none_when_absent(tmp_path: Path) -> None:
    make_wheel(tmp_path, "packaging-26.1-py3-none-any.whl")

    assert build.find_wheel(tmp_path, "micropip") is None


def test_find_wheel_rejects_two_candidates(tmp_path: Path) -> None:
    make_wheel(tmp_path, "webvi-0.1.0-py3-none-any.whl")
    make_wheel(tmp_path, "webvi-0.2.0-py3-none-any.whl")

    with pytest.raises(build.BuildError, match="more than one wheel of webvi"):
        build.find_wheel(tmp_path, "webvi")


def test_rewrite_lock_uses_wheel_hashes(tmp_path: Path) -> None:
    wheels = {
        name: build.parse_wheel_name(make_wheel(tmp_path, LOCK["packages"][name]["file_name"], name))
        for name in ("micropip", "packaging")
    }

    rewritten = build.rewrite_lock(LOCK, wheels)

    assert set(rewritten["packages"]) == {"micropip", "packaging"}
    assert rewritten["info"] == LOCK["info"]
    for name, wheel in wheels.items():
        entry = rewritten["packages"][name]
        assert entry["sha256"] == hashlib.sha256(wheel.path.read_bytes()).hexdigest()
        assert entry["file_name"] == wheel.path.name
        assert entry["imports"] == LOCK["packages"][name]["imports"]
    assert LOCK["packages"]["micropip"]["sha256"] == "0" * 64


def test_rewrite_lock_rejects_version_mismatch(tmp_path: Path) -> None:
    wheel = build.parse_wheel_name(make_wheel(tmp_path, "micropip-0.12.0-py3-none-any.whl", "micropip"))

    with pytest.raises(build.BuildError, match="lock names micropip 0.11.1"):
        build.rewrite_lock(LOCK, {"micropip": wheel})


def test_locked_wheels_reuse_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("micropip", "packaging"):
        path = make_wheel(tmp_path / "pypi", LOCK["packages"][name]["file_name"], name)
        build.record_wheel_hash(build.parse_wheel_name(path))
    forbid_tools(monkeypatch)

    wheels = build.download_locked_wheels(LOCK, tmp_path)

    assert {name: wheel.version for name, wheel in wheels.items()} == {"micropip": "0.11.1", "packaging": "26.1"}


def test_locked_wheels_download_when_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    commands = []

    def fake_pip(command, cwd, what, hint):
        commands.append(command)
        requirement = command[-1]
        name, version = requirement.split("==")
        make_wheel(tmp_path / "pypi", f"{name}-{version}-py3-none-any.whl", name)

    monkeypatch.setattr(build, "run_tool", fake_pip)

    build.download_locked_wheels(LOCK, tmp_path)

    assert [command[-1] for command in commands] == ["micropip==0.11.1", "packaging==26.1"]
    assert all("--python-version" in command and "3.14" in command for command in commands)


def test_damaged_cached_wheel_downloaded_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("micropip", "packaging"):
        path = make_wheel(tmp_path / "pypi", LOCK["packages"][name]["file_name"], name)
        build.record_wheel_hash(build.parse_wheel_name(path))
    (tmp_path / "pypi" / "micropip-0.11.1-py3-none-any.whl").write_bytes(b"junk")
    downloads = []

    def fake_pip(command, cwd, what, hint):
        downloads.append(command[-1])
        make_wheel(tmp_path / "pypi", "micropip-0.11.1-py3-none-any.whl", "micropip")

    monkeypatch.setattr(build, "run_tool", fake_pip)
    wheels = build.download_locked_wheels(LOCK, tmp_path)

    assert downloads == ["micropip==0.11.1"]
    assert build.cached_wheel_intact(wheels["micropip"])


def test_webvi_wheel_cache_follows_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "project"
    (project / "runtime" / "webvi").mkdir(parents=True)
    (project / "runtime" / "webvi" / "__init__.py").write_text('__version__ = "1.0"\n')
    (project / "pyproject.toml").write_text("[project]\nname = 'webvi'\n")
    (project / "README.md").write_text("readme\n")
    builds = []

    def fake_pip_wheel(command, cwd, what, hint):
        builds.append(command)
        make_wheel(Path(command[command.index("--wheel-dir") + 1]), "webvi-1.0-py3-none-any.whl", "webvi")

    monkeypatch.setattr(build, "run_tool", fake_pip_wheel)
    first = build.build_webvi_wheel(project, tmp_path / "cache")
    second = build.build_webvi_wheel(project, tmp_path / "cache")
    (project / "runtime" / "webvi" / "__init__.py").write_text('__version__ = "1.0"\nCHANGED = True\n')
    third = build.build_webvi_wheel(project, tmp_path / "cache")

    assert len(builds) == 2
    assert first.path == second.path
    assert third.path != first.path
    assert not first.path.exists()


def test_npm_ci_skipped_when_lock_unchanged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    web = tmp_path / "web"
    (web / "node_modules" / "pyodide").mkdir(parents=True)
    (web / "package-lock.json").write_text(json.dumps({"lockfileVersion": 3}))
    (web / "node_modules" / ".webvi-lock-sha256").write_text(build.file_sha256(web / "package-lock.json"))
    forbid_tools(monkeypatch)

    assert build.install_pyodide(web) == web / "node_modules" / "pyodide"


def test_npm_ci_runs_when_lock_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    web = tmp_path / "web"
    (web / "node_modules" / "pyodide").mkdir(parents=True)
    (web / "package-lock.json").write_text(json.dumps({"lockfileVersion": 3, "changed": True}))
    (web / "node_modules" / ".webvi-lock-sha256").write_text("stale")
    commands = []
    monkeypatch.setattr(build, "run_tool", lambda command, **kwargs: commands.append(command))

    build.install_pyodide(web)

    assert commands == [["npm", "ci", "--no-audit", "--no-fund"]]
    assert (web / "node_modules" / ".webvi-lock-sha256").read_text() == build.file_sha256(web / "package-lock.json")


def test_missing_tool_names_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(build.BuildError, match="no-such-tool is not installed.*Install it"):
        build.run_tool(["no-such-tool", "--version"], cwd=tmp_path, what="test", hint="Install it.")


def test_failed_tool_reports_output_and_hint(tmp_path: Path) -> None:
    command = ["python3", "-c", "import sys; print('registry unreachable', file=sys.stderr); sys.exit(3)"]

    with pytest.raises(build.BuildError) as caught:
        build.run_tool(command, cwd=tmp_path, what="download", hint="Retry later.")

    message = str(caught.value)
    assert "exit code 3" in message
    assert "registry unreachable" in message
    assert message.endswith("Retry later.")


def test_main_prints_message_not_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    def fail(*args, **kwargs):
        raise build.BuildError("npm is not installed, and it is needed to install pyodide. Install Node.js.")

    monkeypatch.setattr(build, "build_site", fail)

    assert build.main(["--dist", str(tmp_path / "dist")]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("build failed: npm is not installed")
    assert "Traceback" not in captured.err
