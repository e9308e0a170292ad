"""The README's client example is real: it runs, as written, against a real release."""

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


def test_the_readme_example_runs(tmp_path: Path) -> None:
    text = section("client")
    code = re.search(r"```python\n(.*?)```", text, re.S)
    shown = re.search(r"```text\n(.*?)```", text, re.S)
    assert code and shown and EXAMPLE_URL in code.group(1)
    with LoopbackServer() as server:
        lab = Lab(tmp_path, server)
        lab.standard_repo()
        lab.write_defaults()
        url = lab.serve(lab.release().files)
        app = tmp_path / "app"
        shutil.copy(lab.allowed, app / "allowed_signers")
        run = subprocess.run([sys.executable, "-c", code.group(1).replace(EXAMPLE_URL, url)],
                             cwd=app, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    printed = run.stdout.splitlines()
    assert printed[0] == shown.group(1).splitlines()[0]
    assert printed[1] == "cache/acme/tiny.bin 40000"
    assert (app / "cache" / "acme" / "tiny.bin").read_bytes() == lab.model_bytes
    assert "loaded config v1.1.0 for client 1.7.0" in run.stderr


def test_the_readme_quick_example_runs(tmp_path: Path) -> None:
    code = re.search(r"```python\n(.*?)```", section("client-quick"), re.S)
    assert code and EXAMPLE_URL in code.group(1)
    with LoopbackServer() as server:
        lab = Lab(tmp_path, server)
        lab.standard_repo()
        lab.write_defaults()
        url = lab.serve(lab.release().files)
        app = tmp_path / "app"
        shutil.copy(lab.allowed, app / "allowed_signers")
        run = subprocess.run([sys.executable, "-c", code.group(1).replace(EXAMPLE_URL, url)],
                             cwd=app, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["remote", "v1.1.0", "cache/acme/tiny.bin"]
    assert (app / "cache" / "acme" / "tiny.bin").read_bytes() == lab.model_bytes
