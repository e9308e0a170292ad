"""docs/client-guide.md is real: its example application runs, as written, against a
release and a large model file served slowly on 127.0.0.1 (progress bar, cancel, resume,
verify; offline with zero requests; event counts); mypy --strict accepts it against the
installed package and rejects a misuse of a field's type; every option is documented
with its default; the metrics example counts real events."""

from __future__ import annotations

import dataclasses
import inspect
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

from repo_tools.client import ClientConfig, ConfigClient, download
from repo_tools.client.events import Event
from tests.support.client_helpers import Lab, blob, entry, fake_sha, sha
from tests.support.docs import section
from tests.support.httpserver import LoopbackServer, Paced

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_URL = "https://example.org/models/releases/"
BIG = 8 * 1024 * 1024


def example_code() -> str:
    code = re.search(r"```python\n(.*?)```", section("client-example-app"), re.S)
    assert code is not None
    return code.group(1)


def shown_outputs() -> list[list[str]]:
    blocks = re.findall(r"```text\n(.*?)```", section("client-example-app"), re.S)
    return [block.splitlines() for block in blocks]


def big_release(lab: Lab) -> bytes:
    data = blob("big", BIG)
    url = lab.server.route("/files/big.bin", Paced(data, step=64 * 1024, interval=0.01))
    tiny = entry("tiny", lab.model_url, sha(lab.model_bytes), ranking=50,
                 size=len(lab.model_bytes))
    big = entry("big", url, sha(data), ranking=60, size=BIG)
    others = [entry(f"m{i}", f"https://example.org/m{i}.bin", fake_sha(f"m{i}"), ranking=i)
              for i in range(3)]
    lab.write_repo({
        "v1.0.0": [tiny],
        "v1.1.0": [big, tiny, *others, entry("linux-only", "https://example.org/l.bin",
                                             fake_sha("l"), platforms=["linux"])],
        "v2.0.0": [tiny],
    })
    lab.write_defaults()
    return data


def events_line(line: str) -> dict[str, int]:
    assert line.startswith("events: ")
    return {k: int(v) for k, v in (item.split("=") for item in line[8:].split(", "))}


def test_the_example_app_downloads_cancels_resumes_verifies_and_runs_offline(
        tmp_path: Path, server: LoopbackServer) -> None:
    lab = Lab(tmp_path, server)
    data = big_release(lab)
    url = lab.serve(lab.release().files)
    app = tmp_path / "app"
    shutil.copy(lab.allowed, app / "allowed_signers")
    (app / "model_manager.py").write_text(example_code().replace(EXAMPLE_URL, url))
    env = {**os.environ, "REPO_TOOLS_CACHE_DIR": str(tmp_path / "user-cache")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([sys.executable, "model_manager.py", *args], cwd=app, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done

    online, offline = shown_outputs()
    first = run()
    printed = first.stdout.splitlines()
    assert printed[0] == online[0]
    kept_match = re.fullmatch(r"cancelled \(C014\); (\d+) bytes kept to resume", printed[1])
    assert kept_match, printed[1]
    kept = int(kept_match.group(1))
    assert BIG // 3 <= kept < BIG
    assert printed[2] == online[2]
    counted = events_line(printed[3])
    assert counted["load_started"] == counted["load_finished"] == 1
    assert counted["download_started"] == 2 and counted["download_failed"] == 1
    assert counted["download_finished"] == 1 and counted["download_progress"] >= 3
    assert counted["bytes_transferred"] == BIG - kept  # the resume fetched the rest only
    assert set(counted) == set(events_line(online[3]))
    assert "big" in first.stderr and "MB" in first.stderr  # the rich bar, on stderr
    ranges = [r.headers.get("Range") for r in server.requests if r.path == "/files/big.bin"]
    assert ranges == [None, f"bytes={kept}-"]
    assert (tmp_path / "user-cache" / "acme" / "big.bin").read_bytes() == data

    before = server.count()
    second = run("--offline")
    assert second.stdout.splitlines() == offline
    assert server.count() == before  # offline: not a single request


def site_packages(venv: Path) -> Path:
    purelib = sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)})
    return Path(purelib)


def mypy(venv: Path, target: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MYPYPATH")}
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--python-executable",
         str(venv / "bin" / "python"), "--cache-dir", str(cache), "--no-error-summary",
         target.name],
        cwd=target.parent, env=env, capture_output=True, text=True, timeout=600)


def test_mypy_strict_accepts_the_example_against_the_installed_package(tmp_path: Path) -> None:
    # The package as its wheel installs it: pyproject's wheel target is the repo_tools
    # folder whole (hatch's `packages`), py.typed included, in a venv's site-packages;
    # mypy sees it only as an installed package there (no PYTHONPATH, no MYPYPATH).
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'packages = ["repo_tools"]' in pyproject
    assert (ROOT / "repo_tools" / "py.typed").is_file()
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)
    installed = site_packages(venv) / "repo_tools"
    shutil.copytree(ROOT / "repo_tools", installed,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    work = tmp_path / "work"
    work.mkdir()
    example = work / "model_manager.py"
    example.write_text(example_code())
    cache = tmp_path / "mypy-cache"

    good = mypy(venv, example, cache)
    assert good.returncode == 0, good.stdout + good.stderr

    # download.size is `int | None`: arithmetic on it without a check is a type error.
    example.write_text(example_code() + "\n\ndef misuse(entry: ModelEntry) -> int:\n"
                       "    return entry.download.size + 1\n")
    bad = mypy(venv, example, cache)
    assert bad.returncode == 1
    assert 'Unsupported operand types for + ("None" and "int")' in bad.stdout

    # Without py.typed, mypy would not read the package's types at all.
    (installed / "py.typed").unlink()
    untyped = mypy(venv, example, cache)
    assert untyped.returncode == 1 and "py.typed" in untyped.stdout


def _default_text(value: Any) -> str:
    return f"`{value!r}`".replace("'", '"')


def test_every_option_is_in_the_guide_with_its_default() -> None:
    text = section("client-options")
    params = [*inspect.signature(ConfigClient.__init__).parameters.values(),
              *inspect.signature(ConfigClient.ensure).parameters.values(),
              *inspect.signature(download).parameters.values()]
    for param in params:
        if param.kind is inspect.Parameter.KEYWORD_ONLY and param.name != "clock":
            row = f"| `{param.name}` | {_default_text(param.default)} |"
            assert row in text, row
    fields = {f.name: f.default for f in dataclasses.fields(ClientConfig)}
    for name in ("offline", "verify_on_use", "credentials", "refresh_interval"):
        row = f"| `{name}` | {_default_text(fields[name])} |"
        assert row in text, row


def test_the_metrics_example_counts_real_events(tmp_path: Path, server: LoopbackServer) -> None:
    code = re.search(r"```python\n(.*?)```", section("client-events"), re.S)
    assert code is not None
    namespace: dict[str, Any] = {}
    exec(compile(code.group(1), "client-events", "exec"), namespace)
    lab = Lab(tmp_path, server)
    lab.standard_repo()
    lab.serve(lab.release().files)
    events: list[Event] = []
    client = lab.client("1.7.0")
    client = ConfigClient("1.7.0", "linux", source=client.source,
                          allowed_signers=lab.allowed, cache_dir=tmp_path / "cache",
                          config=client.config, on_event=events.append)
    result = client.load()
    client.ensure(next(m for m in result.models if m.model == "tiny")).release()
    for event in events:
        namespace["to_metrics"](event)
    assert namespace["exposition"]().splitlines() == [
        'model_config_loads_total{source="remote",reason="none"} 1',
        'model_downloads_total{result="ok"} 1',
        f'model_bytes_total{{kind="downloaded"}} {len(lab.model_bytes)}',
    ]
    assert isinstance(client.config, ClientConfig)

