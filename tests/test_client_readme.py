"""The docs' client examples are real: each runs, as written, against a real release."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.client_helpers import Lab
from tests.support.httpserver import LoopbackServer
from tests.test_readme import section

EXAMPLE_URL = "https://example.org/models/releases/"


def run_example(code: str, tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], Path,
                                                      bytes]:
    """The example run in an app folder against a release served on 127.0.0.1 (config
    versions v1.0.0, v1.1.0 and v2.0.0; the app has v1 defaults): the run, the app folder
    and the model file's bytes."""
    assert EXAMPLE_URL in code
    with LoopbackServer() as server:
        lab = Lab(tmp_path, server)
        lab.standard_repo()
        lab.write_defaults()
        url = lab.serve(lab.release().files)
        app = tmp_path / "app"
        shutil.copy(lab.allowed, app / "allowed_signers")
        run = subprocess.run([sys.executable, "-c", code.replace(EXAMPLE_URL, url)],
                             cwd=app, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return run, app, lab.model_bytes


def test_the_guide_example_runs(tmp_path: Path) -> None:
    text = section("client")
    code = re.search(r"```python\n(.*?)```", text, re.S)
    shown = re.search(r"```text\n(.*?)```", text, re.S)
    assert code and shown
    run, app, model_bytes = run_example(code.group(1), tmp_path)
    printed = run.stdout.splitlines()
    assert printed[0] == shown.group(1).splitlines()[0]
    assert printed[1] == "cache/acme/tiny.bin 40000"
    assert (app / "cache" / "acme" / "tiny.bin").read_bytes() == model_bytes
    assert "loaded config v1.1.0 for client 1.7.0" in run.stderr


def test_the_readme_quick_example_runs(tmp_path: Path) -> None:
    code = re.search(r"```python\n(.*?)```", section("client-quick"), re.S)
    assert code
    run, app, model_bytes = run_example(code.group(1), tmp_path)
    assert run.stdout.split() == ["remote", "v1.1.0", "cache/acme/tiny.bin"]
    assert (app / "cache" / "acme" / "tiny.bin").read_bytes() == model_bytes
