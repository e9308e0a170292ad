"""The config-repo template: rendered by real cookiecutter, linted, hooked, audited.

The end-to-end test renders the template, `git init`s the result, runs `repo-tools lint`
and then every hook of this project through the real pre-commit inside it, exactly as a
new maintainer would; then it plants a v1 file and a broken index and watches the hooks
fail. pre-commit installs this project from the `tool_repo` snapshot of the work tree (set
REPO_TOOLS_TRY_REPO to try another checkout), once per session (tests.support.helpers.PreCommit).
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from cookiecutter.exceptions import FailedHookException
from cookiecutter.main import cookiecutter

from repo_tools import __version__
from repo_tools.scaffold import template_dir, template_variables
from tests.support.docs import section
from tests.support.helpers import PreCommit, cli, git

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template-repo"
MANIFEST = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
DEFAULTS = json.loads((TEMPLATE / "cookiecutter.json").read_text("utf-8"))
WORKFLOWS = (".github/workflows/lint.yml", ".github/workflows/release.yml")
RESIGN = ".github/workflows/resign.yml"  # scheduled: re-signs a release about to expire
ALL_WORKFLOWS = (*WORKFLOWS, RESIGN)


# What a maintainer fills in for the template's placeholder model (V015 until they do).
REAL_MODEL = {"example_url": "https://huggingface.co/acme/model/resolve/main/model-q4.gguf",
              "example_sha256": "5" * 64}
# The same for `init` (the template's own placeholders are V015 until replaced).
REAL_MODEL_ARGS = [arg for key, value in REAL_MODEL.items() for arg in ("--set", f"{key}={value}")]


def render(out: Path, **context: Any) -> Path:
    return Path(cookiecutter(str(TEMPLATE), no_input=True, extra_context=context,
                             output_dir=str(out)))


def files_of(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file() and ".git" not in p.parts}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(tmp_path_factory.mktemp("rendered"))


# -- the template itself --------------------------------------------------------------------


def test_packaged_template_is_the_project_template() -> None:
    assert TEMPLATE.is_symlink()
    assert TEMPLATE.resolve() == template_dir().resolve()


def test_renders_the_expected_files(rendered: Path) -> None:
    assert rendered.name == "model-configs"
    assert set(files_of(rendered)) == {
        ".github/dependabot.yml", ".github/workflows/lint.yml", ".github/workflows/release.yml",
        ".github/workflows/probe.yml",  # tested in test_probe_workflow.py
        ".github/workflows/resign.yml", ".github/zizmor.yml", ".gitignore",
        ".pre-commit-config.yaml", ".repo-tools.toml", "README.md", "allowed_signers", "index.json",
        "versions/v1.0.0/models/huggingface.json"}
    for name, data in files_of(rendered).items():
        text = data.decode("utf-8")
        assert "cookiecutter" not in text and "{%" not in text, name
    for workflow in ALL_WORKFLOWS:
        assert "${{ github." in (rendered / workflow).read_text()  # GitHub's, not Jinja's


def test_toolkit_pin_is_this_version(rendered: Path) -> None:
    assert DEFAULTS["toolkit_rev"] == f"v{__version__}"
    config = yaml.safe_load((rendered / ".pre-commit-config.yaml").read_text())
    [repo] = config["repos"]
    assert repo["repo"] == DEFAULTS["toolkit_repo"]
    assert repo["rev"] == DEFAULTS["toolkit_rev"]
    for hook in repo["hooks"]:
        assert hook["id"] in MANIFEST, hook["id"]  # every pinned hook exists
    lint = yaml.safe_load((rendered / ".github/workflows/lint.yml").read_text())
    uses = [s["uses"] for s in lint["jobs"]["lint"]["steps"]]
    owner_name = DEFAULTS["toolkit_repo"].removeprefix("https://github.com/")
    assert f"{owner_name}@{DEFAULTS['toolkit_rev']}" in uses


def test_workflows_are_least_privilege(rendered: Path) -> None:
    for workflow in ALL_WORKFLOWS:
        doc = yaml.safe_load((rendered / workflow).read_text())
        assert doc["permissions"] == {}, workflow
        for job in doc["jobs"].values():
            checkout = next(s for s in job["steps"] if s.get("uses", "").startswith(
                "actions/checkout@"))
            assert checkout["with"]["persist-credentials"] is False
            for step in job["steps"]:
                assert "${{" not in step.get("run", ""), step  # expressions only via env:
    lint = yaml.safe_load((rendered / ".github/workflows/lint.yml").read_text())
    assert lint["jobs"]["lint"]["permissions"] == {"contents": "read"}
    assert set(lint[True]) == {"pull_request", "push"}  # YAML 1.1 reads `on` as True


def test_sarif_variant_grants_security_events_to_one_job(tmp_path: Path) -> None:
    repo = render(tmp_path, upload_sarif=True)
    lint = yaml.safe_load((repo / ".github/workflows/lint.yml").read_text())
    assert lint["jobs"]["lint"]["permissions"] == {"contents": "read"}
    scanning = lint["jobs"]["code-scanning"]
    assert scanning["permissions"] == {"contents": "read", "security-events": "write"}
    action_step = next(s for s in scanning["steps"] if "repo-tools@" in s.get("uses", ""))
    upload = scanning["steps"][-1]
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert upload["with"]["sarif_file"] == action_step["with"]["sarif-file"]


def test_release_workflow_keeps_the_key_secret(rendered: Path) -> None:
    release = yaml.safe_load((rendered / ".github/workflows/release.yml").read_text())
    assert release[True] == {"push": {"tags": ["v*"]}}
    steps = release["jobs"]["release"]["steps"]
    sign = next(s for s in steps if "repo-tools release" in s.get("run", ""))
    assert sign["env"]["SIGNING_KEY"] == "${{ secrets.REPO_TOOLS_SIGNING_KEY }}"
    script = sign["run"]
    assert "umask 077" in script and "trap 'rm -f \"$key\"' EXIT" in script
    assert "echo \"$SIGNING_KEY\"" not in script and "set -x" not in script
    verify = next(s for s in steps if "ssh-keygen -Y verify" in s.get("run", ""))
    assert "-n repo-tools-release@v1" in verify["run"]


def run_tool(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.parametrize("upload_sarif", [False, True])
def test_rendered_workflows_pass_schema_and_zizmor(tmp_path: Path, upload_sarif: bool) -> None:
    repo = render(tmp_path, upload_sarif=upload_sarif)
    workflows = [repo / w for w in ALL_WORKFLOWS]
    schema = run_tool("check-jsonschema", "--builtin-schema", "vendor.github-workflows",
                      *workflows, cwd=repo)
    assert schema.returncode == 0, schema.stdout + schema.stderr
    dependabot = run_tool("check-jsonschema", "--builtin-schema", "vendor.dependabot",
                          repo / ".github/dependabot.yml", cwd=repo)
    assert dependabot.returncode == 0, dependabot.stdout + dependabot.stderr
    for persona in ("regular", "pedantic"):
        audit = run_tool("zizmor", "--offline", "--no-progress", "--persona", persona, ".",
                         cwd=repo)
        assert audit.returncode == 0, audit.stdout + audit.stderr


def test_zizmor_policy_is_what_allows_the_tag_pin(tmp_path: Path) -> None:
    # Without the rendered .github/zizmor.yml the tag-pinned toolkit action is flagged:
    # the policy file is load-bearing, not decoration.
    repo = render(tmp_path)
    (repo / ".github/zizmor.yml").unlink()
    audit = run_tool("zizmor", "--offline", "--no-progress", ".", cwd=repo)
    assert audit.returncode != 0 and "unpinned-uses" in audit.stdout


@pytest.mark.parametrize(("key", "value", "message"), [
    ("initial_version", "1.0", "initial_version = '1.0' is not SemVer"),
    ("initial_version", "v1.0.0", "is not SemVer"),
    ("provider", "Hugging Face", "provider = 'Hugging Face' must be lower-case"),
    ("example_sha256", "ABC", "64 lower-case hexadecimal digits"),
    ("toolkit_repo", "https://github.com/x", "https://github.com/OWNER/NAME"),
    ("toolkit_repo", "https://github.com/x/y/tree/main", "https://github.com/OWNER/NAME"),
    ("toolkit_repo", "tools", "a git URL (https://, ssh://, git://, file://, or "
                              "user@host:path) or an absolute path"),
    ("toolkit_repo", "https://e.org/x y", "without spaces or quotes"),
    ("toolkit_repo", 'https://e.org/x"', "without spaces or quotes"),
    ("signing_key_secret", "my-key", "a secret name"),
    ("release_principal", "release key", "release_principal = 'release key' must be a "
                                         "principal"),
    ("release_principal", "a;rm -rf .", "must be a principal"),
    ("example_url", "http://example.com/x", "an https:// URL"),
    # as strict as lint: I003/V001 (strict SemVer) and V010 (the schema's `name`)
    ("initial_version", "1.0.0-01", "initial_version = '1.0.0-01' is not SemVer"),
    ("initial_version", "01.0.0", "initial_version = '01.0.0' is not SemVer"),
    ("min_client_version", "1.0.0-rc.01", "min_client_version = '1.0.0-rc.01' is not SemVer"),
    ("example_model", "ab\x85c", "example_model = 'ab\\x85c' must be a name that is not "
                                 "blank and has no control characters"),
    ("example_model", "ab\x7fc", "example_model = 'ab\\x7fc' must be a name"),
    ("example_model", "   ", "example_model = '   ' must be a name that is not blank"),
    # an argument that is not UTF-8: no file can hold it, so cookiecutter would stop half-way
    ("example_model", "a\udcffb", "example_model = 'a\\udcffb' contains U+DCFF"),
    ("repo_name", "a\udcffb", "repo_name = 'a\\udcffb' contains U+DCFF"),
])
def test_bad_values_are_refused_and_nothing_is_left(tmp_path: Path, key: str, value: str,
                                                   message: str,
                                                   capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(FailedHookException):
        render(tmp_path, **{key: value})
    assert list(tmp_path.iterdir()) == []
    err = capfd.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_hook_semver_is_the_project_semver() -> None:
    # The hook cannot import repo_tools (plain cookiecutter runs it), so it holds a copy.
    from repo_tools.versions import SEMVER_RE

    tree = ast.parse((TEMPLATE / "hooks/pre_gen_project.py").read_text("utf-8"))
    [pattern] = [node.value.args[0] for node in tree.body if isinstance(node, ast.Assign)
                 and ast.unparse(node.targets[0]) == "SEMVER"
                 and isinstance(node.value, ast.Call)]
    assert ast.literal_eval(pattern) == SEMVER_RE.pattern


def test_strict_values_that_lint_accepts_are_accepted(tmp_path: Path) -> None:
    repo = render(tmp_path, initial_version="1.0.0-rc.1+build.5",
                  min_client_version="0.9.0-0", example_model="модель β\u2028q4",
                  **REAL_MODEL)
    assert (repo / "versions/v1.0.0-rc.1+build.5/models/huggingface.json").is_file()
    lint = cli("lint", "--repo", repo)
    assert lint.exit_code == 0, lint.stdout


def test_quotes_in_values_cannot_break_the_hook_or_the_json(tmp_path: Path) -> None:
    repo = render(tmp_path, example_model='it\'s "quoted" \'\'\' \\ model',
                  repo_name="O'Brien's \"models\"", repo_slug="obrien", **REAL_MODEL)
    data = json.loads((repo / "versions/v1.0.0/models/huggingface.json").read_text())
    assert data["models"][0]["model"] == 'it\'s "quoted" \'\'\' \\ model'
    assert cli("lint", "--repo", repo).exit_code == 0


# -- `repo-tools init` ----------------------------------------------------------------------


def test_init_renders_the_same_repo(tmp_path: Path, rendered: Path) -> None:
    run = cli("init", tmp_path / "model-configs", "--name", "Model configs")
    assert run.exit_code == 0, run.stderr
    assert run.stdout.startswith(f"Created {tmp_path / 'model-configs'}\n")
    assert files_of(tmp_path / "model-configs") == files_of(rendered)


def test_init_takes_a_name_and_values(tmp_path: Path) -> None:
    run = cli("init", tmp_path / "acme", "--name", "ACME models", "--set", "provider=acme",
              "--set", "initial_version=2.1.0",
              *(f"--set={k}={v}" for k, v in REAL_MODEL.items()))
    assert run.exit_code == 0, run.stderr
    repo = tmp_path / "acme"
    assert (repo / "versions/v2.1.0/models/acme.json").is_file()
    assert (repo / "README.md").read_text().startswith("# ACME models\n")
    assert cli("lint", "--repo", repo).exit_code == 0


def test_init_into_an_existing_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "here").mkdir()
    assert cli("init", tmp_path / "here").exit_code == 0
    assert (tmp_path / "here" / "index.json").is_file()


def test_init_refusals(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    run = cli("init", tmp_path / "taken")
    assert run.exit_code == 2 and "already exists" in run.stderr
    assert (tmp_path / "taken" / "keep.txt").read_text() == "mine"
    run = cli("init", tmp_path / "x", "--set", "colour=blue")
    assert run.exit_code == 2 and "no variable 'colour'" in run.stderr
    run = cli("init", tmp_path / "x", "--set", "provider")
    assert run.exit_code == 2 and "is not KEY=VALUE" in run.stderr
    run = cli("init", tmp_path / "x", "--set", "upload_sarif=maybe")
    assert run.exit_code == 2 and "could not be converted to a boolean" in run.stderr
    assert not (tmp_path / "x").exists()


def test_init_bad_value_is_a_clean_error(tmp_path: Path) -> None:
    run = subprocess.run(["repo-tools", "init", "x", "--set", "initial_version=1.0"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert "initial_version = '1.0' is not SemVer" in run.stderr
    # said once, in init's words: no "Hook script failed", no cookiecutter internals
    assert run.stderr.count("is not SemVer") == 1
    assert "Traceback" not in run.stderr and "Hook script" not in run.stderr
    assert "cookiecutter" not in run.stderr.lower()
    assert not (tmp_path / "x").exists()


def test_init_help_lists_the_variables_without_pointing_into_the_checkout() -> None:
    run = cli("init", "--help")
    assert run.exit_code == 0
    assert "template-repo" not in run.stdout and "cookiecutter.json" not in run.stdout
    listed = run.stdout.split("Template variables (--set KEY=VALUE) and their defaults:")[1]
    for name in template_variables():
        assert re.search(rf"^  {name}\b", listed, re.MULTILINE), name


@pytest.mark.parametrize(("given", "pre_commit_repo", "pip_url"), [
    ("https://gitlab.com/me/repo-tools.git", "https://gitlab.com/me/repo-tools.git",
     "git+https://gitlab.com/me/repo-tools.git@v1.2.3"),
    ("git@codeberg.org:me/repo-tools.git", "ssh://git@codeberg.org/me/repo-tools.git",
     "git+ssh://git@codeberg.org/me/repo-tools.git@v1.2.3"),
    ("ssh://git@git.example.org:2222/tools.git", "ssh://git@git.example.org:2222/tools.git",
     "git+ssh://git@git.example.org:2222/tools.git@v1.2.3"),
])
def test_init_takes_a_toolkit_repo_on_another_forge(tmp_path: Path, given: str,
                                                    pre_commit_repo: str, pip_url: str) -> None:
    run = cli("init", tmp_path / "r", "--toolkit-repo", given, "--set", "toolkit_rev=v1.2.3",
              "--set", "upload_sarif=yes", *REAL_MODEL_ARGS)
    assert run.exit_code == 0, run.stderr
    repo = tmp_path / "r"
    config = yaml.safe_load((repo / ".pre-commit-config.yaml").read_text())
    assert config["repos"][0]["repo"] == pre_commit_repo
    # Not on github.com, so not an Action: the workflows pip-install the toolkit from git.
    for workflow in (".github/workflows/lint.yml", ".github/workflows/release.yml"):
        text = (repo / workflow).read_text()
        assert f'TOOLKIT: "model-config-tools @ {pip_url}"' in text, workflow
    lint = yaml.safe_load((repo / ".github/workflows/lint.yml").read_text())
    for job in lint["jobs"].values():
        assert not any("repo-tools@" in s.get("uses", "") for s in job["steps"])
    assert "repo-tools lint --format github" in (repo / ".github/workflows/lint.yml").read_text()
    assert cli("lint", "--repo", repo).exit_code == 0
    audit = run_tool("zizmor", "--offline", "--no-progress", "--persona", "pedantic", ".",
                     cwd=repo)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    schema = run_tool("check-jsonschema", "--builtin-schema", "vendor.github-workflows",
                      *[repo / w for w in WORKFLOWS], cwd=repo)
    assert schema.returncode == 0, schema.stdout + schema.stderr


def test_init_refuses_what_lint_would_refuse(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "repo_tools", "init", "x",
                          "--set", "initial_version=1.0.0-01",
                          "--set", "example_model=ab\u0085c"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert "initial_version = '1.0.0-01' is not SemVer" in run.stderr
    assert "example_model = 'ab\\x85c' must be a name" in run.stderr
    assert "\x85" not in run.stderr  # quoted as an escape, not written raw
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "x").exists()


def test_template_variables_are_documented() -> None:
    text = section("template")
    for name in template_variables():
        assert f"`{name}`" in text, name


def test_readme_snippets_are_what_the_template_renders(rendered: Path) -> None:
    snippets = dict(re.findall(r"<!-- rendered: (\S+) -->\n```\w*\n(.*?)```", section("template"),
                               re.DOTALL))
    assert set(snippets) == {".pre-commit-config.yaml", *WORKFLOWS}
    for name, text in snippets.items():
        assert text == (rendered / name).read_text("utf-8"), name


# -- end to end: git, lint, and the real hooks ----------------------------------------------


@pytest.mark.e2e
def test_init_from_a_local_toolkit_repo_works_offline(tmp_path: Path,
                                                      pre_commit: PreCommit) -> None:
    # A local clone (here the tool_repo snapshot) named by a relative path: the new repo's
    # own .pre-commit-config.yaml then runs every hook from it, with no network for git.
    relative = os.path.relpath(pre_commit.tool_repo, tmp_path)
    run = cli("init", "configs", "--toolkit-repo", relative, "--set",
              f"toolkit_rev={pre_commit.rev}", *REAL_MODEL_ARGS, cwd=tmp_path)
    assert run.exit_code == 0, run.stderr
    repo = tmp_path / "configs"
    config = yaml.safe_load((repo / ".pre-commit-config.yaml").read_text())
    assert config["repos"][0]["repo"] == pre_commit.tool_repo.as_uri()
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    own = subprocess.run(["pre-commit", "run", "--all-files"], cwd=repo, env=pre_commit.env,
                         capture_output=True, text=True, timeout=900)
    assert own.returncode == 0, own.stdout + own.stderr
    results = hook_results(own.stdout)
    # Every hook that checks; the fixing one (fix-model-configs) is the maintainer's to opt in.
    automatic = {h["name"] for h in MANIFEST.values()
                 if h.get("stages") != ["manual"] and h["id"] != "fix-model-configs"}
    assert automatic <= set(results) and {results[n] for n in automatic} == {"Passed"}


def hook_results(output: str) -> dict[str, str]:
    """`hook name....Passed` lines -> {name: Passed|Failed|Skipped}."""
    return {m.group(1): m.group(2)
            for m in re.finditer(r"^(.+?)\.{3,}(?:\(.*\))?(Passed|Failed|Skipped)$", output,
                                 re.MULTILINE)}


@pytest.mark.e2e
def test_new_repo_passes_lint_and_every_hook_then_fails_on_mistakes(
        tmp_path: Path, pre_commit: PreCommit) -> None:
    repo = render(tmp_path, **REAL_MODEL)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "new config repo")

    lint = cli("lint", "--repo", repo)
    assert lint.exit_code == 0 and lint.stdout.startswith("All checks passed"), lint.stdout

    clean = pre_commit.run(repo)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    results = hook_results(clean.stdout)
    manifest_names = {h["name"] for h in MANIFEST.values() if h.get("stages") != ["manual"]}
    assert manifest_names <= set(results)
    assert {results[name] for name in manifest_names} == {"Passed"}

    # Plant v1 files (one migrate can convert, one it must refuse: an MD5 is no SHA-256)
    # and break the index (it lists a config version that has no directory).
    legacy = {"name": "old-model", "provider": "legacy", "version": "1.0.0",
              "download_url": "https://example.com/old.bin", "file_hash": "C" * 64}
    models = repo / "versions/v1.0.0/models"
    (models / "legacy.json").write_text(json.dumps(legacy, indent=2))
    (models / "md5.json").write_text(json.dumps({**legacy, "provider": "md5",
                                                 "file_hash": "d" * 32}, indent=2))
    index = json.loads((repo / "index.json").read_text())
    index["versions"]["v2.0.0"] = {"min_client_version": "2.0.0", "max_client_version": None}
    (repo / "index.json").write_text(json.dumps(index, indent=2))
    git(repo, "add", "-A")

    broken = pre_commit.run(repo)
    assert broken.returncode == 1
    output = broken.stdout
    assert "Traceback" not in output + broken.stderr
    results = hook_results(output)
    for hook in ("validate-model-configs", "check-index", "migrate-v1-configs"):
        assert results[MANIFEST[hook]["name"]] == "Failed", hook
    assert re.search(r"^index\.json:\d+:\d+: I002 ", output, re.MULTILINE)
    assert re.search(r"^versions/v1\.0\.0/models/legacy\.json:1:1: M001 ", output, re.MULTILINE)
    assert re.search(r"^versions/v1\.0\.0/models/md5\.json:\d+:\d+: M003 ", output, re.MULTILINE)
    assert re.search(r"^versions/v1\.0\.0/models/md5\.json(:\d+:\d+)?: S005 ", output,
                     re.MULTILINE)
    # the fixer converted the convertible file and left the other one alone
    migrated = json.loads((models / "legacy.json").read_text())
    assert migrated["schema_version"] == "2.0"
    assert migrated["models"][0]["download"]["sha256"] == "c" * 64
    assert json.loads((models / "md5.json").read_text())["file_hash"] == "d" * 32


@pytest.mark.e2e
def test_template_hooks_migrate_first_and_report_a_syntax_error_once(
        tmp_path: Path, pre_commit: PreCommit) -> None:
    # The rendered .pre-commit-config.yaml itself (try-repo would run the manifest's hooks
    # in the manifest's order, with no args), pointed at this project's snapshot.
    repo = render(tmp_path, **REAL_MODEL)
    config = (repo / ".pre-commit-config.yaml").read_text()
    config = config.replace(DEFAULTS["toolkit_repo"], pre_commit.tool_repo.as_uri()).replace(
        DEFAULTS["toolkit_rev"], pre_commit.rev)
    (repo / ".pre-commit-config.yaml").write_text(config)
    models = repo / "versions/v1.0.0/models"
    (models / "legacy.json").write_text(json.dumps(
        {"name": "old-model", "provider": "legacy", "version": "1.0.0",
         "download_url": "https://example.com/old.bin", "file_hash": "c" * 64}, indent=2))
    (models / "broken.json").write_text('{"models": [')
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    run = subprocess.run(["pre-commit", "run", "--all-files"], cwd=repo, env=pre_commit.env,
                         capture_output=True, text=True, timeout=900)
    output = run.stdout
    assert run.returncode == 1 and "Traceback" not in output + run.stderr
    order = [name for name in hook_results(output)]
    assert order[:2] == [MANIFEST["migrate-v1-configs"]["name"],
                         MANIFEST["validate-model-configs"]["name"]]
    assert re.search(r"^versions/v1\.0\.0/models/legacy\.json:1:1: M001 ", output, re.M)
    # converted before validate read it: no S005 beside the M001
    assert not re.search(r"^versions/v1\.0\.0/models/legacy\.json(:\d+:\d+)?: S005 ", output,
                         re.M)
    assert len(re.findall(r"^versions/v1\.0\.0/models/broken\.json:\d+:\d+: J003 ", output,
                          re.M)) == 1


# -- the release workflow's own scripts, run for real ---------------------------------------

# Steps that need GitHub itself (its API, its runner image) are the only ones not run:
# `uses:` steps, installing repo-tools from GitHub by URL, and the two `gh release` steps.
OFFLINE_RELEASE_STEPS = ("Sign the release", "Check the signature with ssh-keygen",
                         "Check the release as a client does")


def principals(repo: Path) -> dict[str, set[str]]:
    """The release principal as each rendered file names it."""
    readme = (repo / "README.md").read_text("utf-8")
    workflow = yaml.safe_load((repo / ".github/workflows/release.yml").read_text("utf-8"))
    [verify] = [s["run"] for s in workflow["jobs"]["release"]["steps"]
                if "ssh-keygen -Y verify" in s.get("run", "")]
    signers = (repo / "allowed_signers").read_text("utf-8")
    return {
        "README keygen": set(re.findall(r"keygen release-key --principal (\S+?)`", readme)),
        "README verify": set(re.findall(r"checks the signature for\s+`(\S+)`", readme)),
        "workflow -I": set(re.findall(r"-I (\S+)", verify)),
        "allowed_signers keygen": set(re.findall(r"--principal (\S+?)`", signers)),
        "allowed_signers example": set(re.findall(r"^# (\S+) namespaces=", signers, re.M)),
    }


def test_one_release_principal_everywhere(rendered: Path, tmp_path: Path) -> None:
    # Following the README must give a key that the workflow's ssh-keygen step accepts.
    default = {DEFAULTS["release_principal"]}
    assert principals(rendered) == {place: default for place in principals(rendered)}
    repo = render(tmp_path, release_principal="signing+ci@acme.example")
    chosen = {"signing+ci@acme.example"}
    assert principals(repo) == {place: chosen for place in principals(repo)}
    leftovers = [name for name, data in files_of(repo).items()
                 if DEFAULTS["release_principal"].encode() in data]
    assert leftovers == []


def test_release_workflow_signs_and_verifies_without_leaking_the_key(tmp_path: Path) -> None:
    # A principal of the maintainer's choosing, and the key made as the README says.
    repo = render(tmp_path / "out", release_principal="release@example.org", **REAL_MODEL)
    key = tmp_path / "release-key"
    [keygen] = re.findall(r"`repo-tools (keygen release-key [^`]*)`",
                          (repo / "README.md").read_text("utf-8"))
    made = cli(*keygen.replace("release-key", str(key), 1).split())
    assert made.exit_code == 0, made.stderr
    with (repo / "allowed_signers").open("a") as signers:
        signers.write(key.with_name("release-key.allowed_signers").read_text())
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "config repo with its release key")
    (repo / "previous").mkdir()  # what "Fetch the previous release" leaves the first time

    secret = key.read_text()
    workflow = yaml.safe_load((repo / ".github/workflows/release.yml").read_text())
    steps = {s.get("name"): s for s in workflow["jobs"]["release"]["steps"]}
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    # `repo-tools` of the environment running the tests stands in for the pip install step.
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "RUNNER_TEMP": str(runner_temp),
           "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}

    def run_release() -> str:
        seen = ""
        for name in OFFLINE_RELEASE_STEPS:
            step = steps[name]
            step_env = {k: v.replace("${{ secrets.REPO_TOOLS_SIGNING_KEY }}", secret)
                        for k, v in step.get("env", {}).items()}
            assert all("${{" not in v for v in step_env.values())
            proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c",
                                   step["run"]], cwd=repo, env={**env, **step_env},
                                  capture_output=True, text=True, timeout=300)
            seen += proc.stdout + proc.stderr
            assert proc.returncode == 0, f"{name}: {proc.stdout}{proc.stderr}"
            if name == "Sign the release":
                assert list(runner_temp.iterdir()) == []  # the key file is gone again
        return seen

    def published(version: int) -> set[str]:
        """The manifests and every archive the manifest names (flat: GitHub release
        assets have no folders)."""
        manifest = json.loads((repo / "release" / "manifest.json").read_bytes())
        archives = {v["archive"] for v in manifest["versions"].values()}
        assert all("/" not in name for name in archives)
        return {*archives, f"{version}.manifest.json", f"{version}.manifest.json.sig",
                "manifest.json", "manifest.json.sig"}

    seen = run_release()
    assert 'Good "repo-tools-release@v1" signature for release@example.org' in seen
    assert "verified" in seen and "bundle_version 1" in seen
    assert {p.name for p in (repo / "release").iterdir()} == published(1)

    # The next tag: "Fetch the previous release" downloads release 1 into previous/. The
    # new release is numbered after it, and release/ (all that the last step uploads)
    # holds release 2 only, so GitHub releases do not pile up every earlier manifest.
    (repo / "previous").rmdir()
    (repo / "release").rename(repo / "previous")
    (repo / "README.md").write_text((repo / "README.md").read_text() + "\nMore.\n")
    git(repo, "commit", "-q", "-am", "second release")
    seen += run_release()
    assert "bundle_version 2" in seen
    assert {p.name for p in (repo / "release").iterdir()} == published(2)

    key_body = "".join(secret.splitlines()[1:-1])
    for chunk in (key_body[i:i + 20] for i in range(0, len(key_body), 20)):
        assert chunk not in seen  # not a line of the private key reaches the log


def test_release_workflow_without_the_secret_says_so(tmp_path: Path) -> None:
    repo = render(tmp_path)
    workflow = yaml.safe_load((repo / ".github/workflows/release.yml").read_text())
    sign = next(s for s in workflow["jobs"]["release"]["steps"]
                if s.get("name") == "Sign the release")
    proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c",
                           sign["run"]], cwd=repo,
                          env={**os.environ, "RUNNER_TEMP": str(tmp_path), "SIGNING_KEY": ""},
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stdout == "::error::the repository secret REPO_TOOLS_SIGNING_KEY is not set\n"


def test_commented_settings_in_the_template_are_valid(rendered: Path) -> None:
    from repo_tools.settings import parse_settings

    text = (rendered / ".repo-tools.toml").read_text()
    examples = re.compile(r'^# (\[[\w.-]+\]|"[^"]+" = .*|[\w-]+ = .*)$', re.MULTILINE)
    uncommented = examples.sub(r"\1", text)
    assert uncommented.count("\n[") >= 2  # per-file-disable, probe
    import tomllib

    from repo_tools.findings import Severity

    loaded = parse_settings(tomllib.loads(uncommented), ".repo-tools.toml", uncommented)
    assert loaded.findings == []
    assert loaded.settings.probe == {"hash": "auto", "read-timeout": 60}
    assert loaded.settings.severity == {"I007": Severity.ERROR}  # gaps fail (issue 15)


# -- the scheduled re-sign workflow, its scripts run for real -------------------------------

OFFLINE_RESIGN_STEPS = ("Check whether it expires within a week", "Sign the same content again",
                        "Check the signature with ssh-keygen",
                        "Check the release as a client does")


def test_resign_workflow_runs_daily_and_keeps_the_key_secret(rendered: Path) -> None:
    doc = yaml.safe_load((rendered / RESIGN).read_text())
    assert set(doc[True]) == {"schedule", "workflow_dispatch"}
    assert doc["concurrency"]["group"] == yaml.safe_load(
        (rendered / ".github/workflows/release.yml").read_text())["concurrency"]["group"]
    steps = doc["jobs"]["resign"]["steps"]
    sign = next(s for s in steps if "repo-tools release --resign" in s.get("run", ""))
    assert sign["env"]["SIGNING_KEY"] == "${{ secrets.REPO_TOOLS_SIGNING_KEY }}"
    assert "umask 077" in sign["run"] and "trap 'rm -f \"$key\"' EXIT" in sign["run"]


def test_resign_workflow_signs_a_release_about_to_expire_again(tmp_path: Path) -> None:
    repo = render(tmp_path / "out", **REAL_MODEL)
    key = tmp_path / "release-key"
    assert cli("keygen", key, "--principal", DEFAULTS["release_principal"]).exit_code == 0
    with (repo / "allowed_signers").open("a") as signers:
        signers.write(key.with_name("release-key.allowed_signers").read_text())
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "config repo with its release key")
    # The published release, made 27 days ago in effect: it expires in 3 days.
    made = cli("release", "--repo", repo, "--key", key, "--out", repo / "previous",
               "--created", "now", "--expires-days", "3")
    assert made.exit_code == 0, made.stdout + made.stderr
    before = json.loads((repo / "previous/manifest.json").read_bytes())

    workflow = yaml.safe_load((repo / RESIGN).read_text())
    steps = {s.get("name"): s for s in workflow["jobs"]["resign"]["steps"]}
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "RUNNER_TEMP": str(runner_temp),
           "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}

    def run_steps() -> tuple[str, dict[str, str]]:
        outputs = tmp_path / "github-output"
        outputs.write_text("")
        seen = ""
        for name in OFFLINE_RESIGN_STEPS:
            step = steps[name]
            if "if" in step:  # the job's one condition: the check step's output
                assert step["if"] == "steps.check.outputs.resign == 'true'"
                if "resign=true" not in outputs.read_text():
                    continue
            step_env = {k: v.replace("${{ secrets.REPO_TOOLS_SIGNING_KEY }}", key.read_text())
                        for k, v in step.get("env", {}).items()}
            proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c",
                                   step["run"]], cwd=repo,
                                  env={**env, **step_env, "GITHUB_OUTPUT": str(outputs)},
                                  capture_output=True, text=True, timeout=300)
            seen += proc.stdout + proc.stderr
            assert proc.returncode == 0, f"{name}: {proc.stdout}{proc.stderr}"
        return seen, dict(line.split("=", 1) for line in outputs.read_text().split())

    seen, outputs = run_steps()
    assert outputs == {"resign": "true"} and "R043" in seen
    assert list(runner_temp.iterdir()) == []  # the key file is gone again
    after = json.loads((repo / "release/manifest.json").read_bytes())
    assert after["bundle_version"] == before["bundle_version"] + 1
    assert (after["versions"], after["index"], after["commit"]) == (
        before["versions"], before["index"], before["commit"])
    assert 'Good "repo-tools-release@v1" signature' in seen
    archives = {v["archive"] for v in after["versions"].values()}
    assert {p.name for p in (repo / "release").iterdir()} == {
        *archives, "2.manifest.json", "2.manifest.json.sig", "manifest.json",
        "manifest.json.sig"}

    # The next day: the re-signed release is the latest one, and fresh: nothing to do.
    import shutil

    shutil.rmtree(repo / "previous")
    (repo / "release").rename(repo / "previous")
    seen, outputs = run_steps()
    assert outputs == {"resign": "false"} and not (repo / "release").exists()
