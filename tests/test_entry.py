"""The console script answers the hook's plain `validate FILE...` without click, and
prints exactly what the click command line prints for the same call."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from repo_tools.entry import plain_validate
from tests.support.helpers import cli, config, make_repo, model, run_tool

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
    ["validate", "caf\udce9.json"],                 # a name that is not UTF-8
])
def test_anything_but_the_plain_call_goes_to_the_command_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ok.json").write_text("{}")
    assert plain_validate(args) is None


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
