"""action-requirements.txt, offline: it pins, with hashes, everything the Action installs.

The Action runs `pip install --require-hashes` on this file and then installs the project
from its checkout with `--no-index`, so a dependency that pyproject.toml gained but the
file lacks would fail every user's workflow. Regenerate the file with
`scripts/pin-action-requirements`; these tests say when that is due.
"""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "action-requirements.txt"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
PROJECT = canonicalize_name(PYPROJECT["project"]["name"])
REGENERATE = "scripts/pin-action-requirements"


@dataclass
class Pin:
    name: str
    version: Version
    hashes: list[str] = field(default_factory=list)
    via: set[str] = field(default_factory=set)


def parse(text: str) -> dict[str, Pin]:
    """pip-compile's output: `name==version \\`, `--hash=sha256:...` lines, `# via` notes."""
    pins: dict[str, Pin] = {}
    current: Pin | None = None
    in_via = False
    for line in text.splitlines():
        stripped = line.strip()
        if match := re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+?)(?: \\)?", line):
            name = canonicalize_name(match.group(1))
            assert name not in pins, f"{name} is pinned twice"
            current = pins[name] = Pin(name, Version(match.group(2)))
            in_via = False
        elif match := re.fullmatch(r"--hash=sha256:([0-9a-f]{64})(?: \\)?", stripped):
            assert current is not None, line
            current.hashes.append(match.group(1))
        elif match := re.fullmatch(r"# via(?: (.+))?", stripped):
            assert current is not None, line
            in_via = match.group(1) is None
            if match.group(1):
                current.via.add(match.group(1))
        elif in_via and (match := re.fullmatch(r"#\s+(.+)", stripped)):
            assert current is not None
            current.via.add(match.group(1))
        elif stripped and not stripped.startswith("#"):
            pytest.fail(f"a line pip-compile does not write: {line!r}")
        else:
            in_via = in_via and stripped.startswith("#") and stripped != "#"
    return pins


PINS = parse(REQUIREMENTS.read_text("utf-8"))


def roots() -> list[Requirement]:
    """What the Action needs directly: the runtime dependencies and the build backend."""
    return [Requirement(spec) for spec in
            [*PYPROJECT["project"]["dependencies"], *PYPROJECT["build-system"]["requires"]]]


def test_the_file_says_how_to_regenerate_it() -> None:
    assert f"#    {REGENERATE}\n" in REQUIREMENTS.read_text("utf-8")
    assert (ROOT / REGENERATE).stat().st_mode & 0o111  # executable


def test_every_pin_is_exact_and_hashed() -> None:
    assert PINS
    for pin in PINS.values():
        assert pin.hashes, f"{pin.name} has no --hash"
        assert len(set(pin.hashes)) == len(pin.hashes), f"{pin.name} repeats a hash"


@pytest.mark.parametrize("requirement", roots(), ids=str)
def test_every_direct_requirement_is_pinned_within_its_range(requirement: Requirement) -> None:
    name = canonicalize_name(requirement.name)
    assert name in PINS, f"{requirement} is not pinned: run {REGENERATE}"
    pin = PINS[name]
    assert requirement.specifier.contains(pin.version, prereleases=True), (
        f"{name}=={pin.version} is outside pyproject's {requirement}: run {REGENERATE}")


def test_nothing_is_pinned_that_nothing_needs() -> None:
    # Each pin is needed by pyproject.toml or by another pin (pip-compile's `# via`),
    # so a dependency dropped from pyproject.toml leaves the file.
    direct = {canonicalize_name(r.name) for r in roots()}
    for pin in PINS.values():
        needed_by = {canonicalize_name(v) for v in pin.via if "pyproject.toml" not in v}
        from_pyproject = any(v.startswith(f"{PROJECT} (pyproject.toml") for v in pin.via)
        assert from_pyproject == (pin.name in direct), (pin.name, pin.via)
        assert from_pyproject or needed_by & PINS.keys(), (pin.name, pin.via)
        assert needed_by <= PINS.keys(), (pin.name, pin.via)


def test_no_semver_or_cookiecutter_in_the_action() -> None:
    assert not PINS.keys() & {"semver", "cookiecutter", "jinja2", PROJECT}


def test_dependencies_of_pinned_versions_installed_here_are_pinned() -> None:
    # Offline, a pinned version's own requirements are known where this environment has
    # that very version installed (it has most: the test extra installs the runtime
    # dependencies). Markers are evaluated for this Python, the oldest supported one in
    # CI; extras are not installed by the Action.
    env = default_environment()
    checked = 0
    for pin in PINS.values():
        try:
            dist = importlib.metadata.distribution(pin.name)
        except importlib.metadata.PackageNotFoundError:
            continue
        if Version(dist.version) != pin.version:
            continue
        checked += 1
        for spec in dist.requires or []:
            requirement = Requirement(spec)
            if requirement.marker and not requirement.marker.evaluate({**env, "extra": ""}):
                continue
            name = canonicalize_name(requirement.name)
            assert name in PINS, f"{pin.name} needs {requirement}: run {REGENERATE}"
            assert requirement.specifier.contains(PINS[name].version, prereleases=True), (
                f"{pin.name} needs {requirement}, pinned {PINS[name].version}")
    assert checked >= 1 or not PINS
