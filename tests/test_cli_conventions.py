"""What every command shares: --color before or after the subcommand, NO_COLOR and
FORCE_COLOR, -q where output is chatty, and click's shell completion as docs/cli.md shows."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import click
import pytest

from repo_tools.cli import COMMANDS, main, use_color
from tests.support.docs import section
from tests.support.helpers import cli, config, make_repo, model, run_tool
from tests.support.httpserver import Body, LoopbackServer, sha256_hex

RED_CODE = "\x1b[31m\x1b[1mV001\x1b[0m"


def every_command() -> list[tuple[str, ...]]:
    ctx = click.Context(main)
    names: list[tuple[str, ...]] = []
    for name in COMMANDS:
        command = main.get_command(ctx, name)
        assert command is not None, name
        names.append((name,))
        if isinstance(command, click.Group):
            names += [(name, sub) for sub in command.commands]
    return names


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repo with one V001 error: a rule code to colour."""
    return make_repo(tmp_path, {"v1.0.0/huggingface": config(model(version="1.0"))})


def plain_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    return {**env, **extra}


@pytest.mark.parametrize("command", every_command(), ids=" ".join)
def test_every_command_takes_color_after_its_name(command: tuple[str, ...]) -> None:
    run = cli(*command, "--help")
    assert run.exit_code == 0 and "--color [auto|always|never]" in run.stdout, run.stdout


def test_color_after_the_subcommand_works_and_wins(repo: Path) -> None:
    after = run_tool("validate", "--color", "never", "--repo", repo, env=plain_env())
    assert after.exit_code == 1, after.stderr  # was 2: "no such option"
    assert " V001 " in after.stdout and "\x1b[" not in after.stdout
    always = run_tool("validate", "--repo", repo, "--color", "always", env=plain_env())
    assert RED_CODE in always.stdout
    overridden = run_tool("--color", "always", "validate", "--color", "never", "--repo", repo,
                          env=plain_env())
    assert "\x1b[" not in overridden.stdout and " V001 " in overridden.stdout
    bad = run_tool("validate", "--color", "sometimes", "--repo", repo, env=plain_env())
    assert bad.exit_code == 2 and "Traceback" not in bad.stderr


def test_force_color_colours_a_pipe_and_no_color_wins_over_it(repo: Path) -> None:
    forced = run_tool("validate", "--repo", repo, env=plain_env(FORCE_COLOR="1"))
    assert RED_CODE in forced.stdout  # stdout is a pipe here, not a terminal
    both = run_tool("validate", "--repo", repo, env=plain_env(FORCE_COLOR="1", NO_COLOR="1"))
    assert "\x1b[" not in both.stdout
    never = run_tool("validate", "--color", "never", "--repo", repo,
                     env=plain_env(FORCE_COLOR="1"))
    assert "\x1b[" not in never.stdout
    empty = run_tool("validate", "--repo", repo, env=plain_env(FORCE_COLOR=""))
    assert "\x1b[" not in empty.stdout  # set but empty means unset


@pytest.mark.parametrize(("choice", "env", "tty", "expected"), [
    ("always", {"NO_COLOR": "1"}, False, True),
    ("never", {"FORCE_COLOR": "1"}, True, False),
    ("auto", {}, True, True),
    ("auto", {}, False, False),
    ("auto", {"NO_COLOR": "1"}, True, False),
    ("auto", {"FORCE_COLOR": "0"}, False, True),  # any non-empty value forces
    ("auto", {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False, False),
])
def test_use_color_table(choice: str, env: dict[str, str], tty: bool, expected: bool) -> None:
    assert use_color(choice, env, lambda: tty) is expected


def test_quiet_keeps_findings_and_drops_the_summary_line(repo: Path, tmp_path: Path) -> None:
    loud = cli("validate", "--repo", repo)
    quiet = cli("validate", "-q", "--repo", repo)
    assert loud.exit_code == quiet.exit_code == 1
    assert loud.stdout.splitlines()[-1].startswith("Found 1 error(s)")
    assert quiet.stdout == "".join(line + "\n" for line in loud.stdout.splitlines()[:-1])
    assert quiet.stdout.endswith("huggingface.json:7:18: V001 '1.0' has 2 numeric parts; "
                                 "SemVer needs MAJOR.MINOR.PATCH\n")
    index = {"versions": {"v1.0.0": {"min_client_version": "1.0.0", "max_client_version": None}}}
    clean = make_repo(tmp_path / "clean", {"v1.0.0/huggingface": config(model())}, index)
    for command in ("lint", "validate", "check-index", "migrate"):
        run = cli(command, "--quiet", "--repo", clean)
        assert (run.exit_code, run.stdout) == (0, ""), (command, run.stdout)
    # machine formats are unchanged by -q
    assert cli("validate", "-q", "--format", "json", "--repo", repo).stdout == cli(
        "validate", "--format", "json", "--repo", repo).stdout


@pytest.mark.usefixtures("no_ambient_credentials")
def test_probe_quiet_drops_the_notes(tmp_path: Path, server: LoopbackServer) -> None:
    url = server.route("/m.bin", Body(b"model"))
    download = {"url": url, "sha256": sha256_hex(b"model"), "cachePath": "m/m.bin"}
    make_repo(tmp_path / "repo", {"v1.0.0/huggingface": config(model(download=download))})
    args = ("probe", "--repo", tmp_path / "repo", "--cache-dir", tmp_path / "cache",
            "--retries", "0")
    loud, quiet = cli(*args), cli(*args, "-q")
    assert "probed 1 URL(s)" in loud.stderr, loud.stderr
    assert quiet.stderr == "" and loud.exit_code == quiet.exit_code
    assert quiet.stdout == "".join(line + "\n" for line in loud.stdout.splitlines()[:-1])


def test_completion_as_docs_cli_shows_it() -> None:
    text = section("completion")
    assert 'eval "$(_REPO_TOOLS_COMPLETE=bash_source repo-tools)"' in text
    bash = shutil.which("bash")
    assert bash is not None and shutil.which("repo-tools") is not None
    # The documented line, in a real bash, then the completion function it defines.
    script = ('eval "$(_REPO_TOOLS_COMPLETE=bash_source repo-tools)"\n'
              'COMP_WORDS=(repo-tools va); COMP_CWORD=1; _repo_tools_completion repo-tools\n'
              'echo "commands: ${COMPREPLY[*]}"\n'
              'COMPREPLY=(); COMP_WORDS=(repo-tools validate --color ""); COMP_CWORD=3; '
              '_repo_tools_completion repo-tools\n'
              'echo "colors: ${COMPREPLY[*]}"\n')
    run = subprocess.run([bash, "--noprofile", "--norc", "-c", script], capture_output=True,
                         text=True, timeout=60, env=plain_env())
    assert run.returncode == 0, run.stderr
    assert "commands: validate" in run.stdout
    assert re.search(r"^colors: auto always never$", run.stdout, re.M), run.stdout
    for shell in ("zsh", "fish"):
        assert f"_REPO_TOOLS_COMPLETE={shell}_source repo-tools" in text
        made = subprocess.run(["repo-tools"], env=plain_env(
            _REPO_TOOLS_COMPLETE=f"{shell}_source"), capture_output=True, text=True, timeout=60)
        assert made.returncode == 0 and "_REPO_TOOLS_COMPLETE" in made.stdout, shell


def test_conventions_page_names_every_command_with_quiet() -> None:
    text = section("cli-conventions")
    for command in every_command():
        run = cli(*command, "--help")
        if "--quiet" in run.stdout:
            assert f"`{' '.join(command)}`" in text, command
