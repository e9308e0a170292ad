"""The GitHub Action: its steps run for real, as a runner would, with GitHub's files faked.

`run_action` reads `action.yml`, evaluates the few expressions it uses (`inputs.*`,
`github.*`, `steps.*.outputs.*`) in each step's `env:`, and runs each `run:` script with
`bash --noprofile --norc -eo pipefail` (GitHub's bash), with GITHUB_OUTPUT,
GITHUB_STEP_SUMMARY, GITHUB_ACTION_PATH, GITHUB_WORKSPACE and RUNNER_TEMP pointing at
temporary files. Only GitHub itself (reading those files back into the UI) is not real.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from repo_tools import action
from repo_tools.action import (
    SUMMARY_LIMIT,
    blob_url,
    github_outputs,
    md_cell,
    md_message,
    parse_inputs,
    summary_markdown,
)
from repo_tools.findings import Finding, Severity
from repo_tools.report import render_github
from repo_tools.rules import rule_url
from tests.support.docs import section
from tests.support.helpers import SHA_A, config, make_repo, model

ROOT = Path(__file__).resolve().parents[1]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text("utf-8"))
SARIF_SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json")
                          .read_text("utf-8"))
INDEX = {"versions": {"v1.0.0": {"min_client_version": "1.0.0", "max_client_version": None}}}
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


# -- a small, honest runner for composite actions -------------------------------------------


@dataclasses.dataclass
class StepRun:
    name: str
    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str


@dataclasses.dataclass
class ActionRun:
    steps: list[StepRun]
    outputs: dict[str, str]

    @property
    def failed(self) -> bool:
        return any(s.returncode != 0 for s in self.steps)

    def step(self, name: str) -> StepRun:
        return next(s for s in self.steps if s.name == name)


def parse_github_output(text: str) -> dict[str, str]:
    """GITHUB_OUTPUT as the runner reads it: `name=value` or `name<<DELIM` ... `DELIM`."""
    values: dict[str, str] = {}
    lines = iter(text.removesuffix("\n").split("\n") if text else [])
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body = []
            for inner in lines:
                if inner == delimiter:
                    break
                body.append(inner)
            values[name] = "\n".join(body)
        elif line:
            name, value = line.split("=", 1)
            values[name] = value
    return values


def evaluate(text: str, context: dict[str, Any]) -> str:
    def one(match: re.Match[str]) -> str:
        value: Any = context
        parts = match.group(1).split(".")
        for i, part in enumerate(parts):
            if parts[i - 1:i] == ["outputs"] and isinstance(value, dict) and part not in value:
                return ""  # a step output the step did not set reads as empty, as on GitHub
            assert isinstance(value, dict) and part in value, f"unsupported: {match.group(0)}"
            value = value[part]
        return str(value)

    return EXPRESSION.sub(one, str(text))


def run_action(workspace: Path, inputs: dict[str, str], runner_temp: Path,
               files: Path) -> ActionRun:
    declared = ACTION["inputs"]
    assert set(inputs) <= set(declared), "an input the action does not declare"
    values = {name: str(spec.get("default", "")) for name, spec in declared.items()}
    values.update(inputs)
    context: dict[str, Any] = {"inputs": values, "steps": {},
                               "github": {"action_path": str(ROOT),
                                          "workspace": str(workspace)}}
    base_env = {k: v for k, v in os.environ.items()
                if not k.startswith(("GITHUB_", "INPUT_", "RUNNER_")) and k != "PYTHONPATH"}
    steps = []
    for number, step in enumerate(ACTION["runs"]["steps"]):
        if "uses" in step:
            # Only actions/cache: GitHub's service, not run here; every run here is what
            # a cache miss is on GitHub (an empty pip cache).
            assert step["uses"].startswith("actions/cache@"), step
            continue
        assert step["shell"] == "bash"
        output, summary = files / f"output-{number}", files / f"summary-{number}"
        output.write_text("")
        summary.write_text("")
        env = {**base_env, "GITHUB_ACTION_PATH": str(ROOT), "GITHUB_WORKSPACE": str(workspace),
               "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary),
               "RUNNER_TEMP": str(runner_temp), "RUNNER_OS": "Linux", "RUNNER_ARCH": "X64",
               "CI": "true", "GITHUB_ACTIONS": "true"}
        env.update({k: evaluate(v, context) for k, v in step.get("env", {}).items()})
        script = files / f"step-{number}.sh"
        script.write_text(step["run"])
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                              cwd=workspace, env=env, capture_output=True, text=True,
                              timeout=600)
        outputs = parse_github_output(output.read_text("utf-8"))
        steps.append(StepRun(step["name"], proc.returncode, proc.stdout, proc.stderr, outputs,
                             summary.read_text("utf-8")))
        if "id" in step:
            context["steps"][step["id"]] = {"outputs": outputs}
        if proc.returncode != 0:
            break  # later steps are skipped, as on GitHub (none of ours has `if:`)
    outputs = {name: evaluate(spec["value"], context) if all(
        m.group(1).split(".")[1] in context["steps"] for m in EXPRESSION.finditer(spec["value"])
    ) else "" for name, spec in ACTION["outputs"].items()}
    return ActionRun(steps, outputs)


# -- one real run of every step on a repo with mistakes --------------------------------------


def planted_repo(root: Path) -> Path:
    """A repo in a subfolder of the workspace with mistakes whose text needs escaping."""
    spaced = model(download={"url": "https://example.com/a b.gguf", "sha256": "ABC" * 3,
                             "cachePath": "huggingface/m.gguf"})
    repo = make_repo(root / "configs", {"v1.0.0/huggingface": config(spaced)}, INDEX)
    # a v1 file whose name holds ',' and ':', which annotation properties must escape
    legacy = {"name": "tiny", "provider": "a,b:c", "version": "1.0.0",
              "download_url": "https://example.com/t.bin", "file_hash": SHA_A}
    (repo / "versions/v1.0.0/models/a,b:c.json").write_text(json.dumps(legacy))
    (repo / ".repo-tools.toml").write_text('known-platforms = ["linux"]\n')
    return repo


RUNNER_TEMP: list[Path] = []


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ActionRun, Path]]:
    workspace = tmp_path_factory.mktemp("workspace")
    planted_repo(workspace)
    files = tmp_path_factory.mktemp("github-files")
    runner_temp = tmp_path_factory.mktemp("runner-temp")
    RUNNER_TEMP.append(runner_temp)
    run = run_action(workspace, {"path": "configs", "sarif-file": "reports/lint.sarif"},
                     runner_temp, files)
    yield run, workspace


@pytest.mark.e2e
def test_install_step_uses_only_the_action_checkout(real_run: tuple[ActionRun, Path]) -> None:
    run, _ = real_run
    install = run.step("Install repo-tools")
    assert install.returncode == 0, install.stderr[-3000:]
    assert install.outputs == {} and install.summary == ""


@pytest.mark.e2e
def test_installed_toolkit_has_no_template_extra_but_says_how_to_get_it(
        real_run: tuple[ActionRun, Path], tmp_path: Path) -> None:
    # The action's venv holds a plain install of this project (not editable) without the
    # `template` extra: the packaged template travels with the wheel, and `init` names the
    # extra that brings cookiecutter instead of failing with a traceback.
    python = RUNNER_TEMP[-1] / "repo-tools-venv" / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the venv's own code
    where = subprocess.run(
        [str(python), "-c", "from repo_tools.scaffold import template_dir; print(template_dir())"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env)
    assert where.returncode == 0, where.stderr
    template = Path(where.stdout.strip())
    assert ROOT not in template.parents and (template / "cookiecutter.json").is_file()
    tool = python.with_name("repo-tools")
    run = subprocess.run([str(tool), "init", "fresh"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120, env=env)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "pip install 'model-config-tools[template]'" in run.stderr
    assert "Traceback" not in run.stderr and not (tmp_path / "fresh").exists()


@pytest.mark.e2e
def test_annotations(real_run: tuple[ActionRun, Path]) -> None:
    run, _ = real_run
    lint = run.step("Lint")
    assert lint.returncode == 1, lint.stderr[-3000:]  # errors at fail-level error
    annotations = [line for line in lint.stdout.splitlines() if line.startswith("::")]
    by_rule = {a.split("title=")[1].split("::")[0]: a for a in annotations}
    assert set(by_rule) == {"V003", "V005", "M001", "L004"}
    # file= is relative to the workspace (the repo root on GitHub), with ',' and ':' escaped
    assert by_rule["M001"].startswith(
        "::error file=configs/versions/v1.0.0/models/a%2Cb%3Ac.json,line=1,col=1,title=M001::")
    # '%' in a message is escaped as %25 ("percent-encode it (%20)")
    assert "(%2520)" in by_rule["V003"]
    assert re.match(r"::error file=configs/versions/v1\.0\.0/models/huggingface\.json,"
                    r"line=\d+,col=\d+,title=V005::V005 ", by_rule["V005"])
    assert by_rule["L004"].startswith("::warning ")
    assert "the job summary lists them all" in lint.stdout


@pytest.mark.e2e
def test_summary(real_run: tuple[ActionRun, Path]) -> None:
    run, _ = real_run
    summary = run.step("Lint").summary
    assert summary.startswith("## repo-tools lint: ❌ 3 errors, 1 warning\n")
    assert "Checked 3 files in configs with validate, index, migrate." in summary
    for code, row in (("M001", "v1-converted | error | 1 |"),
                      ("L004", "unknown-platform | warning | 1 |"),
                      ("V003", "bad-url | error | 1 |"), ("V005", "bad-sha256 | error | 1 |")):
        # Each code links to its rule page on the docs site.
        assert f"| [{code}]({rule_url(code)}) | {row}" in summary
    findings_table = summary.split("### Findings\n")[1].split("###")[0]
    rows = [line for line in findings_table.splitlines() if line.startswith("| ❌") or
            line.startswith("| ⚠️")]
    assert len(rows) == 4
    assert r"| configs/versions/v1.0.0/models/a,b\:c.json | 1:1 | M001 |" in summary
    assert "```text\nclient versions  config version\nc < 1.0.0        (none)\n" \
           "c >= 1.0.0       v1.0.0\n```" in summary


@pytest.mark.e2e
def test_outputs(real_run: tuple[ActionRun, Path]) -> None:
    run, _ = real_run
    assert run.step("Lint").outputs == {"errors": "3", "warnings": "1", "files": "3",
                                        "sarif-file": "reports/lint.sarif", "exit-code": "1"}
    assert run.outputs == {"errors": "3", "warnings": "1", "files": "3",
                           "sarif-file": "reports/lint.sarif", "exit-code": "1",
                           "clients-diff": ""}  # set on pull requests only


@pytest.mark.e2e
def test_sarif_file_is_valid_sarif(real_run: tuple[ActionRun, Path]) -> None:
    _, workspace = real_run
    doc = json.loads((workspace / "reports/lint.sarif").read_text("utf-8"))
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(doc)
    results = doc["runs"][0]["results"]
    assert sorted(r["ruleId"] for r in results) == ["L004", "M001", "V003", "V005"]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert uris == {"configs/versions/v1.0.0/models/huggingface.json",
                    "configs/versions/v1.0.0/models/a,b:c.json"}


# -- the metadata ---------------------------------------------------------------------------


def test_no_expression_inside_run_scripts() -> None:
    for step in ACTION["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), step["name"]  # inputs go through env: only
    for name in ACTION["inputs"]:
        assert any(f"inputs.{name}" in str(s.get("env", {})) for s in ACTION["runs"]["steps"])


@pytest.mark.e2e
def test_install_is_hash_pinned_and_cached_on_the_requirements_file(
        real_run: tuple[ActionRun, Path]) -> None:
    steps = {step["name"]: step for step in ACTION["runs"]["steps"]}
    install = steps["Install repo-tools"]["run"]
    requirements = '"$GITHUB_ACTION_PATH/action-requirements.txt"'
    assert re.search(r"install [^\n]*--require-hashes[^\n]*\\\n\s*--requirement "
                     + re.escape(requirements), install), install
    # the project itself: from the checkout, nothing more from the index
    assert '--no-index --no-build-isolation "$GITHUB_ACTION_PATH"' in install
    cache = steps["Restore the pip cache"]
    assert re.fullmatch(r"actions/cache@[0-9a-f]{40}", cache["uses"])
    assert cache["with"]["path"] == "${{ steps.pip-cache.outputs.dir }}"
    assert steps["Install repo-tools"]["env"]["PIP_CACHE_DIR"] == cache["with"]["path"]
    assert cache["with"]["key"] == "${{ steps.pip-cache.outputs.key }}"
    # The key is the requirements file's sha256, as the runner computed it.
    run, _ = real_run
    key = run.step("Pip cache key").outputs["key"]
    digest = hashlib.sha256((ROOT / "action-requirements.txt").read_bytes()).hexdigest()
    assert key.startswith("repo-tools-pip-") and key.endswith(f"-{digest}")


def test_action_yml_matches_the_github_actions_schema() -> None:
    run = subprocess.run(["check-jsonschema", "--builtin-schema", "vendor.github-actions",
                          str(ROOT / "action.yml")], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_action_yml_passes_zizmor() -> None:
    run = subprocess.run(["zizmor", "--offline", "--persona", "pedantic", "--no-progress",
                          str(ROOT / "action.yml")], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_readme_documents_every_input_and_output() -> None:
    text = section("lint")
    for name in (*ACTION["inputs"], *ACTION["outputs"]):
        assert f"`{name}`" in text, name


# -- the entry point in-process: the cases a second install would only slow down ----------


def entry(tmp_path: Path, repo_dir: str, **inputs: str) -> tuple[int, dict[str, str], str]:
    out, summary = tmp_path / "out", tmp_path / "summary"
    env = {"GITHUB_WORKSPACE": str(tmp_path), "GITHUB_OUTPUT": str(out),
           "GITHUB_STEP_SUMMARY": str(summary), "INPUT_PATH": repo_dir}
    env.update({f"INPUT_{k.upper()}": v for k, v in inputs.items()})
    code = action.main(env)
    return code, parse_github_output(read_or_empty(out)), read_or_empty(summary)


def read_or_empty(path: Path) -> str:
    return path.read_text("utf-8") if path.exists() else ""


def test_clean_repo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_repo(tmp_path, {"v1.0.0/huggingface": config(model())}, INDEX)
    code, outputs, summary = entry(tmp_path, ".")
    assert code == 0
    assert outputs == {"errors": "0", "warnings": "0", "files": "2", "sarif-file": "",
                       "exit-code": "0"}
    assert summary.startswith("## repo-tools lint: ✅ all checks passed\n")
    assert "### Findings" not in summary and "Checked 2 files in . with" in summary
    out = capsys.readouterr().out
    assert "::" not in out
    # Plainly nothing, not "0 errors ... (the job summary lists them all)".
    assert out == "repo-tools: no errors or warnings in 2 files\n"


@pytest.mark.parametrize(("fail_level", "code"), [("error", 0), ("warning", 1), ("none", 0)])
def test_fail_level_with_warnings(tmp_path: Path, fail_level: str, code: int) -> None:
    insecure = model(download={"url": "http://example.com/m", "sha256": SHA_A,
                               "cachePath": "huggingface/m"})
    make_repo(tmp_path, {"v1.0.0/huggingface": config(insecure)}, INDEX)
    got, outputs, _ = entry(tmp_path, ".", fail_level=fail_level)
    assert got == code and outputs["exit-code"] == str(code) and outputs["warnings"] == "1"


def test_fail_level_none_with_errors(tmp_path: Path) -> None:
    make_repo(tmp_path, {"v1.0.0/huggingface": config(model(version="1.0"))}, INDEX)
    code, outputs, _ = entry(tmp_path, ".", fail_level="none")
    assert code == 0 and outputs["errors"] == "1"


def test_checks_and_probe_inputs(tmp_path: Path) -> None:
    make_repo(tmp_path, {"v1.0.0/huggingface": config(model(version="1.0")),
                         "v2.0.0/huggingface": config(model())}, INDEX)
    _, outputs, summary = entry(tmp_path, ".", checks="index")
    assert outputs["errors"] == "1" and "| I004 |" in summary and "V001" not in summary
    assert "with index." in summary


@pytest.mark.parametrize(("inputs", "message"), [
    ({"fail_level": "sometimes"}, "fail-level: expected one of error, warning, none"),
    ({"probe": "yes"}, "probe: expected true or false"),
    ({"checks": "validate,everything"}, "checks: unknown check 'everything'"),
])
def test_bad_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                    inputs: dict[str, str], message: str) -> None:
    make_repo(tmp_path, {"v1.0.0/huggingface": config(model())}, INDEX)
    code, outputs, summary = entry(tmp_path, ".", **inputs)
    # the exit-code output is the documented 2; nothing else is reported
    assert code == 2 and outputs == {"exit-code": "2"} and summary == ""
    out = capsys.readouterr().out
    assert out.startswith("::error title=repo-tools::") and message in out


def test_missing_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, outputs, _ = entry(tmp_path, "nowhere")
    assert code == 2 and "path: nowhere is not a directory" in capsys.readouterr().out
    assert outputs == {"exit-code": "2"}


def test_parse_inputs_defaults() -> None:
    inputs = parse_inputs({})
    assert inputs == action.ActionInputs(Path("."), None, False, "error", None)
    assert parse_inputs({"INPUT_CHECKS": " validate  index,migrate "}).checks == (
        "validate", "index", "migrate")


# -- the pure parts, by their invariants ----------------------------------------------------


def unescape_md(text: str) -> str:
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text)


@given(st.text())
def test_md_cell_is_one_literal_cell(text: str) -> None:
    cell = md_cell(text)
    assert "\n" not in cell and "\r" not in cell
    assert re.search(r"(?<!\\)(\\\\)*\|", cell) is None  # every | is escaped
    assert unescape_md(cell) == " ".join(text.splitlines())


@given(st.dictionaries(st.text(alphabet="abcdefghij-", min_size=1, max_size=8),
                       st.text(alphabet=st.characters(exclude_characters="\r"), max_size=40)))
def test_github_outputs_round_trip(values: dict[str, str]) -> None:
    # Multi-line values use a random delimiter: no value can end its heredoc early or
    # forge another output.
    assert parse_github_output(github_outputs(values)) == values


@given(st.lists(st.text(min_size=1, max_size=30), min_size=1, max_size=5))
def test_annotations_are_single_lines(messages: list[str]) -> None:
    findings = [Finding("V001", Severity.ERROR, f"versions/v1.0.0/models/{m}.json", m)
                for m in messages]
    lines = render_github(findings, 1).removesuffix("\n").split("\n")
    assert len(lines) == len(findings)
    for line, m in zip(lines, messages, strict=True):
        props, _, message = line[len("::error "):].partition("::")
        unescaped = message.replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")
        assert unescaped == f"V001 {m}"
        # a property value never contains an unescaped separator
        file_value = props.split(",title=")[0]
        assert ":" not in file_value[len("file="):] and "," not in file_value


def finding_rows(count: int) -> list[Finding]:
    return [Finding("V005", Severity.ERROR, f"versions/v1.0.0/models/p{i}.json",
                    "sha256 is not hexadecimal; expected 64 lowercase hex digits " + "|" * 20,
                    line=i + 1, column=3) for i in range(count)]


def test_summary_stays_under_githubs_limit() -> None:
    findings = finding_rows(20_000)
    text = summary_markdown(findings, 20_000, ["validate"], repo_shown=".",
                            resolve_table="```text\nx\n```")
    assert len(text.encode("utf-8")) <= SUMMARY_LIMIT
    shown = text.count("| ❌ |")
    assert 1000 < shown < 20_000
    assert f"… and {20_000 - shown} more findings not shown here" in text
    assert text.rstrip().endswith("```")  # the resolve table is never cut off
    assert f"| [V005]({rule_url('V005')}) | bad-sha256 | error | 20000 |" in text


def test_summary_lists_everything_when_it_fits() -> None:
    text = summary_markdown(finding_rows(50), 50, ["validate"], repo_shown=".")
    assert text.count("| ❌ |") == 50 and "more finding" not in text


def test_unwritable_sarif_path_is_an_input_error(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    make_repo(tmp_path, {"v1.0.0/huggingface": config(model())}, INDEX)
    (tmp_path / "taken").mkdir()
    code, outputs, _ = entry(tmp_path, ".", sarif_file="taken")
    assert code == 2 and outputs == {"exit-code": "2"}
    assert "::error title=repo-tools::sarif-file: cannot write taken" in capsys.readouterr().out


# -- the job summary as GitHub reads it: Markdown with GFM tables ---------------------------

MARKDOWN = MarkdownIt("commonmark").enable("table")
SHA = "0123456789abcdef0123456789abcdef01234567"
GITHUB_ENV = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/configs",
              "GITHUB_SHA": SHA}


def table_cells(row: str) -> list[str]:
    """The HTML of each cell of a one-row table, as a GFM renderer makes it."""
    rendered = MARKDOWN.render(f"| a | b |\n| --- | --- |\n{row}\n")
    body = rendered.split("<tbody>")[1] if "<tbody>" in rendered else ""
    return re.findall(r"<td>(.*?)</td>", body, re.DOTALL)


def test_code_in_messages_is_inline_code() -> None:
    message = "file is in the legacy v1 format; run `repo-tools migrate a|b.json` to convert it"
    cell = md_message(message)
    assert "`repo-tools migrate a\\|b.json`" in cell and "\\`" not in cell
    [_, shown] = table_cells(f"| x | {cell} |")
    assert shown == ("file is in the legacy v1 format; run <code>repo-tools migrate a|b.json"
                     "</code> to convert it")


MARKDOWN_TEXT = st.text(alphabet=st.sampled_from("`|\\*_<>&[]()#!~$: ab\n"), max_size=40)


@given(MARKDOWN_TEXT)
def test_a_message_is_one_cell_with_code_and_nothing_else(text: str) -> None:
    cell = md_message(text)
    cells = table_cells(f"| x | {cell} |")
    assert len(cells) == 2, cell  # no pipe split the row
    # No markup but inline code: no emphasis, link, HTML or entity took effect ...
    assert re.sub(r"</?code>", "", cells[1]) == html.escape(
        html.unescape(re.sub(r"</?code>", "", cells[1])), quote=False)
    assert re.findall(r"<(/?\w+)", cells[1]) == ["code", "/code"] * cells[1].count("<code>")
    # ... and every character other than backticks and spacing is shown.
    shown = html.unescape(re.sub(r"</?code>", "", cells[1]))
    assert re.sub(r"[\s`]", "", shown) == re.sub(r"[\s`]", "", text)


def test_files_link_to_their_line_at_the_commit() -> None:
    findings = [Finding("V005", Severity.ERROR, "versions/v1.0.0/models/a b(1).json", "bad",
                        line=12, column=3),
                Finding("I001", Severity.ERROR, "index.json", "missing")]
    blob = blob_url(GITHUB_ENV)
    assert blob == f"https://github.com/acme/configs/blob/{SHA}/"
    text = summary_markdown(findings, 2, ["validate"], repo_shown=".", blob=blob)
    rows = [line for line in text.splitlines() if line.startswith("| ❌")]
    assert table_cells(rows[0])[1] == (
        f'<a href="https://github.com/acme/configs/blob/{SHA}/versions/v1.0.0/models/'
        'a%20b%281%29.json#L12">versions/v1.0.0/models/a b(1).json</a>')
    assert table_cells(rows[1])[1] == (
        f'<a href="https://github.com/acme/configs/blob/{SHA}/index.json">index.json</a>')


@pytest.mark.parametrize("env", [
    {},
    {**GITHUB_ENV, "GITHUB_SHA": ""},
    {**GITHUB_ENV, "GITHUB_REPOSITORY": "acme/configs)[x](https://evil"},
    {**GITHUB_ENV, "GITHUB_SERVER_URL": "javascript:alert(1)//"},
    {**GITHUB_ENV, "GITHUB_SHA": "main"},
])
def test_files_are_plain_text_without_githubs_variables(env: dict[str, str]) -> None:
    assert blob_url(env) is None
    finding = Finding("V005", Severity.ERROR, "versions/v1.0.0/models/p.json", "bad", line=3)
    text = summary_markdown([finding], 1, ["validate"], repo_shown=".", blob=blob_url(env))
    # Only the rule codes link (to their docs pages); the files are plain text.
    assert "| ❌ | versions/v1.0.0/models/p.json | 3:0 |" in text
    assert "](" not in text.split("### Findings\n")[1]


def test_the_action_links_files_from_the_runners_variables(tmp_path: Path) -> None:
    make_repo(tmp_path, {"v1.0.0/huggingface": config(model(version="1.0"))}, INDEX)
    out, summary = tmp_path / "out", tmp_path / "summary"
    env = {**GITHUB_ENV, "GITHUB_WORKSPACE": str(tmp_path), "GITHUB_OUTPUT": str(out),
           "GITHUB_STEP_SUMMARY": str(summary), "INPUT_PATH": "."}
    assert action.main(env) == 1
    assert re.search(rf"\| ❌ \| \[versions/v1\.0\.0/models/huggingface\.json\]"
                     rf"\(https://github\.com/acme/configs/blob/{SHA}/versions/v1\.0\.0/models/"
                     rf"huggingface\.json#L\d+\) \|", summary.read_text("utf-8"))
