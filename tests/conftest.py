from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, settings

from tests.support.client_helpers import Lab
from tests.support.helpers import ROOT, PreCommit, git, git_env, snapshot_of_work_tree
from tests.support.httpserver import LoopbackServer

settings.register_profile(
    "ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=50, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

# Tools installed beside this interpreter (repo-tools, pre-commit, check-jsonschema, ...)
# are found even when the venv is not activated.
_bin = str(Path(sys.executable).parent)
if _bin not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _bin + os.pathsep + os.environ.get("PATH", "")


# Tests that install the package (pre-commit's hook environment, the Action's venv) are
# end to end whether or not they say so: `-m "not e2e"` leaves them out.
E2E_FIXTURES = frozenset({"pre_commit", "real_run"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if E2E_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def tool_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This project as `pre-commit try-repo` must see it: a one-commit snapshot of the work
    tree, new files included (try-repo on the checkout runs HEAD plus tracked changes
    only); in CI, a clean clone, it equals HEAD. REPO_TOOLS_TRY_REPO names another."""
    override = os.environ.get("REPO_TOOLS_TRY_REPO")
    if override:
        return Path(override)
    return snapshot_of_work_tree(tmp_path_factory.mktemp("tool-repo"))


@pytest.fixture(scope="session")
def pre_commit(tool_repo: Path, tmp_path_factory: pytest.TempPathFactory) -> PreCommit:
    """Every test that runs the hooks through real pre-commit shares this: one pre-commit
    home for the session, so the hooks' environment (a pip install of `tool_repo`) is
    built once, not once per test. The caller's git and pre-commit settings stay out."""
    env = {k: v for k, v in git_env().items() if not k.startswith("PRE_COMMIT")}
    home = tmp_path_factory.mktemp("pre-commit-home")
    env["PRE_COMMIT_HOME"] = str(home)
    env["PRE_COMMIT_COLOR"] = "never"
    manifest = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text("utf-8"))
    return PreCommit(tool_repo, git(tool_repo, "rev-parse", "HEAD"),
                     tuple(hook["id"] for hook in manifest), home, env)


@pytest.fixture
def no_ambient_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep the developer's ~/.netrc, tokens and proxies out of a network test."""
    for name in list(os.environ):
        if name.startswith("REPO_TOOLS_TOKEN") or name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    """A loopback HTTP server of its own for each test (tests count its requests)."""
    with LoopbackServer() as running:
        yield running


@pytest.fixture
def lab(tmp_path: Path, server: LoopbackServer) -> Lab:
    return Lab(tmp_path, server)
