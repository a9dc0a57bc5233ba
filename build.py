#!/usr/bin/env python3
"""Build dist/, a static site that serves webvi pages with everything they need.

The site contains Pyodide's core files, from the npm package pinned in
web/package-lock.json. It also contains the micropip and packaging wheels from PyPI with
a lock file rewritten for their hashes, the webvi wheel built from runtime/, the page
shell from web/ and the examples.

Downloads and the webvi wheel are cached in .cache/, so a second run with nothing changed
only copies files. This script uses the standard library alone, so it runs before the
project is installed.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent
WEB_DIR = ROOT / "web"
EXAMPLES_DIR = ROOT / "examples"
RUNTIME_DIR = ROOT / "runtime"
DEFAULT_CACHE_DIR = ROOT / ".cache" / "build"
DEFAULT_DIST_DIR = ROOT / "dist"

# The files of the npm package that a browser needs to start Pyodide.
PYODIDE_CORE_FILES = (
    "pyodide.mjs",
    "pyodide.asm.mjs",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
)
# Packages from Pyodide's lock file that the page loads, at the versions that lock names.
LOCKED_PACKAGES = ("micropip", "packaging")
# Page shell files copied from web/ to the root of the site.
SHELL_FILES = ("index.html", "webvi-loader.mjs", "webvi-fetch.mjs", "webvi-panel.mjs", "webvi.css", "favicon.svg")
# The file from which the loader reads the Pyodide version and the webvi wheel's name.
SITE_MANIFEST = "webvi-site.json"


class BuildError(Exception):
    """A failed build step; the message names what to install, fix or retry."""


@dataclass(frozen=True)
class Wheel:
    """A wheel file with the name and version parsed from its file name."""

    path: Path
    name: str
    version: str

    @property
    def sha256(self) -> str:
        return file_sha256(self.path)


def log(message: str) -> None:
    print(f"build: {message}", flush=True)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def tree_sha256(paths: list[Path], base: Path) -> str:
    """Hash file names relative to base and their contents, in sorted order."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.relative_to(base).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def run_tool(command: list[str], cwd: Path, what: str, hint: str) -> None:
    """Run an external tool, turning a missing tool or a failure into a BuildError."""
    if shutil.which(command[0]) is None and not Path(command[0]).exists():
        raise BuildError(f"{command[0]} is not installed, and it is needed to {what}. {hint}")
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip()
        # Node prints the minified source line of a failure; keep messages readable.
        lines = [line if len(line) <= 300 else line[:300] + " …" for line in output.splitlines()[-15:]]
        tail = "\n".join(lines)
        raise BuildError(
            f"{' '.join(command)} failed with exit code {result.returncode} while trying to "
            f"{what}.\n{tail}\n{hint}"
        )


# --- Pyodide from npm -------------------------------------------------------------------


def install_pyodide(web_dir: Path) -> Path:
    """Run `npm ci` in web/ unless node_modules already matches the lock file."""
    lock = web_dir / "package-lock.json"
    if not lock.is_file():
        raise BuildError(f"{lock} is missing; it pins the pyodide npm package. Restore it from git.")
    stamp = web_dir / "node_modules" / ".webvi-lock-sha256"
    package_dir = web_dir / "node_modules" / "pyodide"
    lock_hash = file_sha256(lock)
    if stamp.is_file() and stamp.read_text() == lock_hash and package_dir.is_dir():
        log("pyodide: node_modules matches package-lock.json, skipping npm ci")
        return package_dir

    log("pyodide: running npm ci in web/")
    run_tool(
        ["npm", "ci", "--no-audit", "--no-fund"],
        cwd=web_dir,
        what="install the pinned pyodide npm package",
        hint="Install Node.js and npm (Debian: apt-get install nodejs npm), "
        "check that the npm registry is reachable, then run the build again.",
    )
    stamp.write_text(lock_hash)
    return package_dir


def read_pyodide_version(package_dir: Path) -> str:
    return json.loads((package_dir / "package.json").read_text())["version"]


# --- wheels -----------------------------------------------------------------------------


def parse_wheel_name(path: Path) -> Wheel:
    """Parse `name-version(-build)?-python-abi-platform.whl` as PEP 427 names it."""
    parts = path.name.removesuffix(".whl").split("-")
    if not path.name.endswith(".whl") or len(parts) not in (5, 6):
        raise BuildError(f"{path.name} is not a wheel file name (name-version-python-abi-platform.whl).")
    return Wheel(path=path, name=parts[0].replace("_", "-").lower(), version=parts[1])


def find_wheel(directory: Path, name: str, version: str | None = None) -> Wheel | None:
    """Return the pure-Python wheel of `name` (and `version`, if given) in directory."""
    wanted = name.replace("_", "-").lower()
    matches = []
    for path in sorted(directory.glob("*.whl")):
        wheel = parse_wheel_name(path)
        if wheel.name != wanted or (version is not None and wheel.version != version):
            continue
        if not path.name.endswith("-none-any.whl"):
            continue
        matches.append(wheel)
    if len(matches) > 1:
        names = ", ".join(wheel.path.name for wheel in matches)
        raise BuildError(f"{directory} contains more than one wheel of {name}: {names}. Delete all but one.")
    return matches[0] if matches else None


def download_locked_wheels(lock: dict, cache_dir: Path) -> dict[str, Wheel]:
    """Download from PyPI the wheels of LOCKED_PACKAGES at the versions the lock names."""
    wheel_dir = cache_dir / "pypi"
    wheel_dir.mkdir(parents=True, exist_ok=True)
    wheels: dict[str, Wheel] = {}
    for name in LOCKED_PACKAGES:
        entry = lock["packages"].get(name)
        if entry is None:
            raise BuildError(f"Pyodide's lock file has no entry for {name}; the pinned Pyodide is not supported.")
        version = entry["version"]
        wheel = find_wheel(wheel_dir, name, version)
        if wheel is not None and not cached_wheel_intact(wheel):
            log(f"wheels: {wheel.path.name} in the cache is damaged, downloading it again")
            wheel.path.unlink()
            wheel = None
        if wheel is None:
            log(f"wheels: downloading {name}=={version} from PyPI")
            run_tool(
                [
                    sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                    "--only-binary=:all:", "--python-version", "3.14",
                    "--dest", str(wheel_dir), f"{name}=={version}",
                ],
                cwd=ROOT,
                what=f"download the {name} {version} wheel from PyPI",
                hint="Check that PyPI is reachable (pip's index settings apply), then run the build again.",
            )
            wheel = find_wheel(wheel_dir, name, version)
            if wheel is None:
                raise BuildError(f"pip did not leave a pure-Python {name} {version} wheel in {wheel_dir}.")
            record_wheel_hash(wheel)
        else:
            log(f"wheels: {wheel.path.name} is cached")
        wheels[name] = wheel
    return wheels


def record_wheel_hash(wheel: Wheel) -> None:
    """Store the hash of a downloaded wheel beside it, so that later builds can check it."""
    wheel.path.with_name(wheel.path.name + ".sha256").write_text(wheel.sha256)


def cached_wheel_intact(wheel: Wheel) -> bool:
    """Return True when a cached wheel still has the hash recorded when it was downloaded."""
    recorded = wheel.path.with_name(wheel.path.name + ".sha256")
    return recorded.is_file() and recorded.read_text().strip() == wheel.sha256


def rewrite_lock(lock: dict, wheels: dict[str, Wheel]) -> dict:
    """Return a lock that lists only the given wheels, with their own file names and hashes.

    PyPI's wheels are not byte-identical to the ones Pyodide's lock describes, so the hashes
    must change. Entries for packages the site does not ship are dropped, so that loading
    one fails with "unknown package" instead of a missing file.
    """
    packages = {}
    for name, wheel in wheels.items():
        entry = dict(lock["packages"][name])
        if entry["version"] != wheel.version:
            raise BuildError(
                f"the lock names {name} {entry['version']} but the wheel is {wheel.path.name}; "
                "delete .cache/build and run the build again."
            )
        entry["file_name"] = wheel.path.name
        entry["sha256"] = wheel.sha256
        packages[name] = entry
    return {"info": lock["info"], "packages": packages}


def runtime_sources(runtime_dir: Path) -> list[Path]:
    return [
        path
        for path in runtime_dir.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and not path.name.endswith(".pyc")
    ]


def build_webvi_wheel(root: Path, cache_dir: Path) -> Wheel:
    """Build the webvi wheel from runtime/, reusing the cached one when no source changed."""
    sources = runtime_sources(root / "runtime") + [root / "pyproject.toml", root / "README.md"]
    source_hash = tree_sha256(sources, root)
    wheel_dir = cache_dir / "webvi" / source_hash[:16]
    wheel = find_wheel(wheel_dir, "webvi") if wheel_dir.is_dir() else None
    if wheel is not None:
        log(f"wheels: {wheel.path.name} is up to date")
        return wheel

    log("wheels: building the webvi wheel from runtime/")
    if wheel_dir.parent.is_dir():
        shutil.rmtree(wheel_dir.parent)
    wheel_dir.mkdir(parents=True)
    run_tool(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheel_dir), str(root)],
        cwd=root,
        what="build the webvi wheel",
        hint="pip fetches the build backend (hatchling) from PyPI: check that PyPI is reachable.",
    )
    wheel = find_wheel(wheel_dir, "webvi")
    if wheel is None:
        raise BuildError(f"pip wheel did not leave a webvi wheel in {wheel_dir}.")
    return wheel


def compile_wheels(wheels: list[Wheel], web_dir: Path, cache_dir: Path) -> dict[str, Wheel]:
    """Return copies of the wheels with bytecode for Pyodide's Python added.

    Without bytecode the page compiles every module on every load (micropip's import
    measured 260 ms without it and 190 ms with it). The copies are cached under a key of
    the inputs and the compiler.
    """
    script = web_dir / "compile-wheels.mjs"
    key_parts = [file_sha256(script), read_pyodide_version(web_dir / "node_modules" / "pyodide")]
    key_parts += sorted(wheel.sha256 for wheel in wheels)
    key = hashlib.sha256("\n".join(key_parts).encode()).hexdigest()[:16]
    out_dir = cache_dir / "compiled" / key
    compiled = {wheel.name: out_dir / wheel.path.name for wheel in wheels}
    if all(path.is_file() for path in compiled.values()):
        log("wheels: bytecode for Pyodide is cached")
        return {name: parse_wheel_name(path) for name, path in compiled.items()}

    log("wheels: compiling bytecode for Pyodide's Python (runs Pyodide in Node.js)")
    if out_dir.parent.is_dir():
        shutil.rmtree(out_dir.parent)
    in_dir = cache_dir / "compiled" / f"{key}.in"
    in_dir.mkdir(parents=True)
    out_dir.mkdir(parents=True)
    for wheel in wheels:
        shutil.copy2(wheel.path, in_dir / wheel.path.name)
    run_tool(
        ["node", str(script), str(in_dir), str(out_dir)],
        cwd=web_dir,
        what="compile the wheels' Python modules to bytecode for Pyodide",
        hint="Install Node.js 18 or newer (Debian: apt-get install nodejs), then run the build again.",
    )
    shutil.rmtree(in_dir)
    missing = [str(path) for path in compiled.values() if not path.is_file()]
    if missing:
        raise BuildError(f"compile-wheels.mjs did not write {', '.join(missing)}.")
    return {name: parse_wheel_name(path) for name, path in compiled.items()}


def check_wheel_imports(wheel: Wheel, top_level: str) -> None:
    """Fail early if a wheel does not contain the package the page imports."""
    with zipfile.ZipFile(wheel.path) as archive:
        if f"{top_level}/__init__.py" not in archive.namelist():
            raise BuildError(f"{wheel.path.name} does not contain {top_level}/__init__.py.")


# --- the site ---------------------------------------------------------------------------


def copy_if_changed(source: Path, target: Path) -> None:
    """Copy a file unless the target already has the same size and modification time."""
    if target.is_file():
        source_stat, target_stat = source.stat(), target.stat()
        if source_stat.st_size == target_stat.st_size and source_stat.st_mtime_ns == target_stat.st_mtime_ns:
            return
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)


def write_if_changed(target: Path, text: str) -> None:
    if target.is_file() and target.read_text() == text:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def example_entries(examples_dir: Path) -> list[tuple[str, str, str]]:
    """Return (directory name, VI name, description) of each example with a page and a VI file."""
    entries = []
    for directory in sorted(path for path in examples_dir.iterdir() if path.is_dir()) if examples_dir.is_dir() else ():
        vi_files = sorted(directory.glob("*.vi.json"))
        if not (directory / "index.html").is_file() or not vi_files:
            continue
        try:
            vi = json.loads(vi_files[0].read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise BuildError(f"{vi_files[0]} is not valid JSON: {error}") from None
        entries.append((directory.name, str(vi.get("name", directory.name)), str(vi.get("description", ""))))
    return entries


def index_page(template: Path, examples_dir: Path) -> str:
    """Return the site's index page with a link to each example in place of its marker."""
    items = [
        f'      <li><a href="examples/{html.escape(name)}/">{html.escape(title)}</a>'
        + (f": {html.escape(description)}" if description else "")
        + "</li>"
        for name, title, description in example_entries(examples_dir)
    ]
    listing = '<ul class="webvi-examples">\n' + "\n".join(items) + "\n    </ul>" if items else "<p>No examples.</p>"
    return template.read_text(encoding="utf-8").replace("<!-- webvi:examples -->", listing)


def build_site(dist_dir: Path, cache_dir: Path, root: Path = ROOT) -> dict:
    """Build the whole site into dist_dir and return the site manifest."""
    package_dir = install_pyodide(root / "web")
    pyodide_version = read_pyodide_version(package_dir)
    lock = json.loads((package_dir / "pyodide-lock.json").read_text())

    pyodide_dir = dist_dir / "pyodide"
    for name in PYODIDE_CORE_FILES:
        source = package_dir / name
        if not source.is_file():
            raise BuildError(f"the pyodide npm package has no {name}; delete web/node_modules and build again.")
        copy_if_changed(source, pyodide_dir / name)

    downloaded = download_locked_wheels(lock, cache_dir)
    built = build_webvi_wheel(root, cache_dir)
    compiled = compile_wheels([*downloaded.values(), built], root / "web", cache_dir)
    locked_wheels = {name: compiled[name] for name in downloaded}
    for wheel in locked_wheels.values():
        copy_if_changed(wheel.path, pyodide_dir / wheel.path.name)
    write_if_changed(pyodide_dir / "pyodide-lock.json", json.dumps(rewrite_lock(lock, locked_wheels), indent=1))

    webvi_wheel = compiled["webvi"]
    check_wheel_imports(webvi_wheel, "webvi")
    wheels_dir = dist_dir / "wheels"
    for stale in wheels_dir.glob("webvi-*.whl") if wheels_dir.is_dir() else ():
        if stale.name != webvi_wheel.path.name:
            stale.unlink()
    # The wheel name carries only the version, so a changed wheel must replace the old one.
    target = wheels_dir / webvi_wheel.path.name
    if not target.is_file() or file_sha256(target) != webvi_wheel.sha256:
        copy_if_changed(webvi_wheel.path, target)

    for name in SHELL_FILES:
        if name == "index.html":
            write_if_changed(dist_dir / name, index_page(root / "web" / name, root / "examples"))
        else:
            copy_if_changed(root / "web" / name, dist_dir / name)
    examples_dir = root / "examples"
    if examples_dir.is_dir():
        for source in sorted(examples_dir.rglob("*")):
            if source.is_file() and "__pycache__" not in source.parts:
                copy_if_changed(source, dist_dir / "examples" / source.relative_to(examples_dir))

    manifest = {
        "pyodide": pyodide_version,
        "webvi": webvi_wheel.version,
        "webvi_wheel": f"wheels/{webvi_wheel.path.name}",
        "webvi_wheel_sha256": webvi_wheel.sha256,
    }
    write_if_changed(dist_dir / SITE_MANIFEST, json.dumps(manifest, indent=1) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build dist/, the static webvi site.")
    parser.add_argument("--dist", type=Path, default=DEFAULT_DIST_DIR, help="output directory (default: dist/)")
    parser.add_argument(
        "--cache", type=Path, default=DEFAULT_CACHE_DIR, help="download and wheel cache (default: .cache/build/)"
    )
    args = parser.parse_args(argv)
    try:
        manifest = build_site(args.dist.resolve(), args.cache.resolve())
    except BuildError as error:
        print(f"build failed: {error}", file=sys.stderr)
        return 1
    log(f"done: webvi {manifest['webvi']} on Pyodide {manifest['pyodide']} in {args.dist}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
