"""docs/verdict.md's sessions are real: run in order in one folder, as the page says."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from tests.support.docs import ROOT, section
from tests.support.helpers import GIT_ENV
from tests.support.release_helpers import needs_ssh_keygen
from tests.test_readme_examples import block, run_session
from tests.test_template import RESIGN, render


@needs_ssh_keygen
def test_verdict_sessions(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    repo = tmp_path / "config-repo"
    shutil.copytree(ROOT / "examples" / "clean-repo", repo)
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "models"],
                 ["remote", "add", "origin", "https://github.com/example/model-configs.git"]):
        subprocess.run(["git", "-C", str(repo), *args], check=True,
                       env={**os.environ, **GIT_ENV})
    text = section("verdict-release")
    assert "Later in the same folder (after the releases of the next section)" in text
    # In the order the sessions build on each other.
    for name, containing in (
            ("verdict-publishable", "TheBloke.json"),
            ("verdict-publishable", "repo-tools init demo"),
            ("verdict-index", "check-index --repo examples/clean-repo"),
            ("verdict-release", "repo-tools keygen release_key"),
            ("verdict-fresh", "--warn-expiring 7"),
            ("verdict-release", "cp -r public public-2"),
            ("verdict-release", "--previous public-2"),
            ("verdict-diff", "repo-tools diff HEAD --repo config-repo")):
        run_session(block(name, containing), tmp_path, env=GIT_ENV)


def test_resign_workflow_shown_is_the_rendered_one(tmp_path: Path) -> None:
    [shown] = re.findall(r"<!-- rendered: (\S+) -->\n```yaml\n(.*?)```",
                         section("verdict-fresh"), re.S)
    assert shown[0] == RESIGN
    assert shown[1] == (render(tmp_path) / RESIGN).read_text("utf-8")
