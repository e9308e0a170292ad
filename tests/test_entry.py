"""The console script answers the hook's plain `validate FILE...` without click, and
prints exactly what the click command line prints for the same call."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from repo_tools.checks.validate import PARALLEL_THRESHOLD
from repo_tools.entry import plain_validate
from tests.support.helpers import SHA_A, cli, config, make_repo, model, run_tool

CORPUS = Path(__file__).parent / "corpus" / "malformed"
INDEX = {"versions": {"v1.0.0": {"min_client_version": "1.0.0"}}}


def both(capsys: pytest.CaptureFixture[str], cwd: Path, *names: str) -> str:
    """The plain path and the command line agree on output and exit code (returned: the
    output)."""
    old = Path.cwd()
    os.chdir(cwd)
    try:
        code = plain_validate(["validate", *names])
        plain = capsys.readouterr().out
    finally:
        os.chdir(old)
    assert code is not None, "the plain path should have answered"
    run = cli("validate", *names, cwd=cwd)
    assert (code, plain) == (run.exit_code, run.stdout)
    return plain


def test_the_malformed_corpus_reads_the_same_both_ways(
        capsys: pytest.CaptureFixture[str]) -> None:
    names = sorted(p.name for p in CORPUS.glob("*.json"))
    both(capsys, CORPUS, *names)
    for name in names[:10]:  # one at a time too: the hook names what a commit touches
        both(capsys, CORPUS, name)


def test_a_clean_repo_and_the_repos_settings_read_the_same_both_ways(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path / "repo", {"v1.0.0/acme": config(model(provider="other"))}, INDEX)
    name = "versions/v1.0.0/models/acme.json"
    assert "V009" in both(capsys, repo, name)  # the provider does not match the file name
    (repo / ".repo-tools.toml").write_text('disable = ["V009"]\n')
    assert both(capsys, repo, name) == "All checks passed (1 file).\n"
    clean = make_repo(tmp_path / "clean", {"v1.0.0/huggingface": config()}, INDEX)
    assert both(capsys, clean, "versions/v1.0.0/models/huggingface.json") == (
        "All checks passed (1 file).\n")


@pytest.mark.parametrize("args", [
    ["validate"],                                   # no file: the whole repo, click's
    ["validate", "--format", "json", "x.json"],     # any option
    ["validate", "missing.json"],                   # click's error message, exit 2
    ["validate", "ok.json", "-q"],
    ["lint", "ok.json"],
    ["validate", "caf\udce9.json"],                 # a name that is not UTF-8 (it exists)
])
def test_anything_but_the_plain_call_goes_to_the_command_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ok.json").write_text("{}")
    (tmp_path / os.fsdecode(b"caf\xe9.json")).write_text("{}")
    assert plain_validate(args) is None
    assert plain_validate(["validate", "ok.json"]) is not None  # (the plain call is taken)


def test_an_unreadable_file_goes_to_the_command_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # click refuses an unreadable file or --repo (exit 2). Tests run as root here, for whom
    # every file is readable, so os.access is replaced: the one stand-in in this file.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ok.json").write_text("{}")
    real_access = os.access
    for unreadable in ("ok.json", "."):
        monkeypatch.setattr(os, "access", lambda path, mode, u=unreadable: (
            str(path) != u and real_access(path, mode)))
        assert plain_validate(["validate", "ok.json"]) is None


def test_an_ascii_stdout_and_a_broken_pipe_end_as_with_click(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"v1.0.0/acme": config(model(provider="café"))}, INDEX)
    name = "versions/v1.0.0/models/acme.json"
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    plain = run_tool("validate", name, cwd=repo, env=env)
    assert plain.exit_code == 0 and "Traceback" not in plain.stderr
    assert plain == run_tool("validate", "--format", "text", name, cwd=repo, env=env)
    assert "provider 'café'" in plain.stdout  # (click writes UTF-8 to an ASCII stream)
    # A reader that went away: exit 1 and no traceback, either way.
    for args in (["validate", name], ["validate", "--format", "text", name]):
        proc = subprocess.Popen([sys.executable, "-m", "repo_tools", *args], cwd=repo,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        error = proc.stderr.read().decode()
        assert proc.wait(timeout=300) == 1 and "Traceback" not in error, error


def test_a_library_caller_without_a_main_guard_can_run_the_workers(tmp_path: Path) -> None:
    # Workers start from a forkserver only for the console script and the Action, whose
    # main modules are guarded; a plain script keeps the platform's default.
    models = tmp_path / "versions" / "v1.0.0" / "models"
    models.mkdir(parents=True)
    for i in range(PARALLEL_THRESHOLD + 10):
        (models / f"p{i:04d}.json").write_text(json.dumps(config(model(
            provider=f"p{i:04d}", model=f"m{i % 7}",
            download={"url": f"https://h/{i}", "sha256": SHA_A,
                      "cachePath": f"p{i:04d}/m.gguf"}))))
    script = tmp_path / "unguarded.py"
    script.write_text(
        "import pathlib\nfrom repo_tools.checks.validate import validate_paths\n"
        "root = pathlib.Path(__file__).parent\n"
        "files = sorted(root.glob('versions/*/models/*.json'))\n"
        "print(len(validate_paths(files, root, jobs=2).findings), "
        "len(validate_paths(files, root, jobs=1).findings))\n")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "REPO_TOOLS_NO_SUMMARY_CACHE": "1"},
                          check=False)
    assert proc.returncode == 0, proc.stderr
    parallel, serial = proc.stdout.split()
    assert parallel == serial


def test_the_hooks_call_does_not_import_click(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"v1.0.0/acme": config()}, INDEX)
    name = "versions/v1.0.0/models/acme.json"

    def imported(*args: str) -> set[str]:
        proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "repo_tools", *args],
                              cwd=repo, capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines()
                if line.startswith("import time:") and "|" in line}

    assert "click" not in imported("validate", name)
    assert "click" in imported("validate", "--format", "text", name)
    # And a missing file still gets the command line's message and exit 2.
    run = run_tool("validate", "missing.json", cwd=repo)
    assert run.exit_code == 2 and "no such file: missing.json" in run.stderr
