"""The Action's "What clients will see" on pull requests: the diff against the PR's base
commit at the top of the job summary, and its JSON as the `clients-diff` output."""

from __future__ import annotations

import json
from pathlib import Path

from repo_tools import action
from tests.support.helpers import cli, config, git, make_repo, model, write_json
from tests.support.release_helpers import commit_all
from tests.test_action import parse_github_output

INDEX = {"versions": {"v1.0.0": {"min_client_version": "1.0.0", "max_client_version": None}}}


def run(workspace: Path, base: str | None) -> tuple[int, dict[str, str], str]:
    """The action's entry point in-process, for a pull request whose base is `base`
    (None: a push)."""
    files = workspace.parent / f"{workspace.name}-github"
    files.mkdir()
    env = {"GITHUB_WORKSPACE": str(workspace), "GITHUB_OUTPUT": str(files / "out"),
           "GITHUB_STEP_SUMMARY": str(files / "summary"), "INPUT_PATH": "configs",
           "GITHUB_EVENT_NAME": "push"}
    if base is not None:
        event = write_json(files / "event.json", {"pull_request": {"base": {"sha": base}}})
        env.update(GITHUB_EVENT_NAME="pull_request", GITHUB_EVENT_PATH=str(event))
    code = action.main(env)
    out, summary = files / "out", files / "summary"
    return (code, parse_github_output(out.read_text() if out.exists() else ""),
            summary.read_text() if summary.exists() else "")


def workspace_with_configs(tmp_path: Path) -> tuple[Path, str]:
    """A git workspace whose config repo is `configs/`, and the base commit's sha."""
    make_repo(tmp_path / "configs", {"v1.0.0/huggingface": config(model())}, INDEX)
    git(tmp_path, "init", "-q")
    commit_all(tmp_path, "base")
    return tmp_path / "configs", git(tmp_path, "rev-parse", "HEAD")


def test_pull_request_summary_shows_what_clients_will_see(tmp_path: Path) -> None:
    configs, base = workspace_with_configs(tmp_path)
    changed = model(download={"url": "https://example.org/new.gguf", "sha256": "c" * 64,
                              "cachePath": "huggingface/new.gguf"})
    write_json(configs / "versions/v1.0.0/models/huggingface.json", config(
        changed, model(model="phi-3-mini", download={
            "url": "https://example.org/phi.gguf", "sha256": "b" * 64,
            "cachePath": "huggingface/phi.gguf"})))
    code, outputs, summary = run(tmp_path, base)
    assert code == 0, summary
    head, _, rest = summary.partition("### What clients will see")
    assert head.startswith("## repo-tools lint: ✅ all checks passed\n")
    assert rest.startswith(f" (compared with {base[:12]})\n")
    assert ("| 1.0.0 \\<= c \\<= 2.0.0 | v1.0.0, models change | huggingface/phi-3-mini "
            "1.0.0 |  | huggingface/llama-3.2-1b-instruct\\:q4\\_k\\_m 1.0.0 \\(url, sha256, "
            "cachePath\\) |") in rest
    assert rest.index("\n### Which config version each client gets") > 0  # before the map
    # the output is the diff command's JSON, byte for byte in meaning
    shown = cli("diff", base, "--repo", configs, "--format", "json", cwd=tmp_path)
    assert json.loads(outputs["clients-diff"]) == json.loads(shown.stdout)


def test_pull_request_that_changes_nothing_says_so_in_one_line(tmp_path: Path) -> None:
    _, base = workspace_with_configs(tmp_path)
    (tmp_path / "README.md").write_text("docs only\n")
    _, outputs, summary = run(tmp_path, base)
    section = summary.split("### What clients will see", 1)[1].split("###", 1)[0]
    assert [line for line in section.splitlines()[1:] if line] == [
        "No client sees any change: every client version gets the same config version and "
        "the same models."]
    assert json.loads(outputs["clients-diff"])["segments"] == []


def test_unreachable_base_is_a_note_not_a_failure(tmp_path: Path) -> None:
    workspace_with_configs(tmp_path)
    code, outputs, summary = run(tmp_path, "f" * 40)
    assert code == 0 and "clients-diff" not in outputs
    assert "Not compared: the base commit ffffffffffff is not in the checkout" in summary


def test_other_events_show_no_diff(tmp_path: Path) -> None:
    workspace_with_configs(tmp_path)
    _, outputs, summary = run(tmp_path, None)
    assert "What clients will see" not in summary and "clients-diff" not in outputs
