"""The README's shell sessions are real: each `$ command` is run in bash, in order, and must
print what the README shows under it.

Only what differs on every run (digests, times, keys, the temporary directory) is masked.
The validate, check-index and client examples are checked by test_readme.py and
test_client_readme.py; the template's rendered files by test_template.py.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import unicodedata
from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.support.helpers import GIT_ENV
from tests.support.release_helpers import needs_ssh_keygen
from tests.test_readme import README, ROOT, section

MASKS = [
    (re.compile(r"\b[0-9a-f]{64}\b"), "<sha256>"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"), "<time>"),
    (re.compile(r"ssh-ed25519 [A-Za-z0-9+/=]+"), "ssh-ed25519 <key>"),
    (re.compile(r"SHA256:[A-Za-z0-9+/]{43}"), "SHA256:<fingerprint>"),
]


def masked(text: str) -> str:
    for pattern, mask in MASKS:
        text = pattern.sub(mask, text)
    return text


def block(name: str, containing: str) -> str:
    """The one fenced block of README section `name` that contains `containing`."""
    blocks: list[str] = re.findall(r"```(?:console|sh|text)\n(.*?)```", section(name), re.S)
    found = [b for b in blocks if containing in b]
    assert len(found) == 1, f"{len(found)} blocks in {name} contain {containing!r}"
    return found[0]


def session(text: str) -> list[tuple[str, str]]:
    """`$ command` lines (with `\\` continuations) and the output the README shows."""
    steps: list[tuple[str, str]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        assert line.startswith("$ "), f"output before any command: {line!r}"
        command = line[2:]
        while command.endswith("\\"):
            i += 1
            command = command[:-1] + lines[i].strip()
        i += 1
        output = []
        while i < len(lines) and not lines[i].startswith("$ "):
            output.append(lines[i])
            i += 1
        steps.append((command, "\n".join(output).strip("\n")))
    return steps


def run_session(text: str, cwd: Path, *, replace: Mapping[str, str] = {},
                env: Mapping[str, str] = {}) -> None:
    """Run each command in bash and compare; the directory and `$?` carry over, as in a
    terminal."""
    with tempfile.TemporaryDirectory() as scratch:
        _run_session(text, cwd, Path(scratch), replace, env)


def _run_session(text: str, cwd: Path, scratch: Path, replace: Mapping[str, str],
                 env: Mapping[str, str]) -> None:
    state, status = scratch / "cwd", scratch / "status"
    state.write_text(str(cwd))
    status.write_text("0")
    environ = {k: v for k, v in os.environ.items()
               if k not in ("SOURCE_DATE_EPOCH", "REPO_TOOLS_KEY_PASSPHRASE")}
    environ.update({"NO_COLOR": "1", **env})
    for command, shown in session(text):
        for old, new in replace.items():
            command = command.replace(old, new)
        script = (f'cd "$(cat "{state}")"; (exit "$(cat "{status}")")\n{command}\n'
                  f'echo $? > "{status}"; pwd > "{state}"\n')
        run = subprocess.run(["bash", "-c", script], env=environ, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, timeout=120)
        printed = run.stdout.strip("\n")
        for old, new in replace.items():
            printed = printed.replace(new, old)
        assert masked(printed) == masked(shown), command


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    return tmp_path


def test_lint_example(examples: Path) -> None:
    run_session(block("lint", "$ cd examples/broken-repo && repo-tools lint"), examples)


def test_settings_example(tmp_path: Path) -> None:
    shown = block("lint", "L001 unknown setting")
    # The docs' "repo made by `repo-tools init`, with two typos" (and a real model in
    # place of the template's placeholder, which V015 would report):
    subprocess.run(["repo-tools", "init", "repo", "--set",
                    "example_url=https://huggingface.co/acme/acme-7b-GGUF/resolve/main/a.gguf",
                    "--set", f"example_sha256={'5' * 64}"],
                   cwd=tmp_path, check=True, capture_output=True)
    repo = tmp_path / "repo"
    with (repo / ".repo-tools.toml").open("a") as settings:
        settings.write('disabel = ["V009"]\n')
    models = repo / "versions" / "v1.0.0" / "models" / "huggingface.json"
    models.write_text(models.read_text().replace('"macos"', '"MacOS"'))
    run_session(shown, repo)


def test_resolve_example(examples: Path) -> None:
    run_session(block("index", "$ repo-tools resolve --repo examples/clean-repo"), examples)


def test_migrate_examples(examples: Path) -> None:
    run_session(block("migrate", "$ cp -r examples/broken-repo /tmp/demo"), examples,
                replace={"/tmp/demo": str(examples / "demo")})
    # The second example's file is not in the README; this one gives the findings shown.
    acme = examples / "acme" / "versions" / "v1.0.0" / "models" / "acme.json"
    acme.parent.mkdir(parents=True)
    acme.write_text('{\n  "name": "acme-7b",\n  "provider": "acme",\n'
                    '  "download_url": "https://example.com/acme-7b.gguf",\n'
                    '  "file_hash": "d41d8cd98f00b204e9800998ecf8427e"\n}\n')
    run_session(block("migrate", "acme.json"), examples / "acme")


def test_init_example(tmp_path: Path) -> None:
    # The pre-commit run (the next block) is run for real by test_template.py (it is slow).
    run_session(block("template", "$ repo-tools init model-configs"), tmp_path,
                replace={"/tmp/rd": str(tmp_path)})


@needs_ssh_keygen
def test_release_example(examples: Path) -> None:
    repo = examples / "config-repo"
    shutil.copytree(examples / "examples" / "clean-repo", repo)
    env = GIT_ENV
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "models"],
                 ["remote", "add", "origin", "https://github.com/example/model-configs.git"]):
        subprocess.run(["git", "-C", str(repo), *args], check=True, env={**os.environ, **env})
    text = section("release")
    assert "A session on a git clone of `examples/clean-repo`" in text
    run_session(block("release", "$ repo-tools keygen release_key"), examples, env=env)
    run_session(block("release", "--allowed-signers release_key.pub"), examples, env=env)
    run_session(block("release", "drop TheBloke"), examples, env=env)


def toc_slug(heading: str) -> str:
    """The anchor MkDocs (Python-Markdown's toc) gives a heading."""
    text = unicodedata.normalize("NFKD", heading.replace("`", ""))
    text = re.sub(r"[^\w\s-]", "", text.encode("ascii", "ignore").decode()).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def test_readme_links_resolve() -> None:
    # The README is read on GitHub and on the package index: its links go to files in the
    # repository (docs pages, with an anchor the page has). The docs site's own links are
    # checked by `mkdocs build --strict` in CI.
    links = re.findall(r"\]\(([^)#]+\.md)(?:#([^)]+))?\)", README)
    assert len(links) >= 10
    for target, anchor in links:
        page = ROOT / target
        assert page.is_file(), target
        if anchor:
            headings = re.findall(r"^#{1,6} (.+)$", re.sub(r"```.*?```", "", page.read_text(),
                                                            flags=re.S), re.M)
            assert anchor in {toc_slug(h) for h in headings}, (target, anchor)


def test_readme_lint_excerpt_is_what_lint_prints() -> None:
    shown = re.search(r"\$ repo-tools lint --repo examples/broken-repo\n…\n(.*?)```", README,
                      re.S)
    assert shown
    run = subprocess.run(["repo-tools", "lint", "--repo", "examples/broken-repo"], cwd=ROOT,
                         capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
    assert run.returncode == 1
    assert run.stdout.endswith(shown.group(1))
