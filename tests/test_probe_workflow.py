"""The template's `probe` workflow: checked as GitHub and zizmor check it, and its scripts
run for real, step by step, against a local server standing in for the model hosts.

What only GitHub provides is played by the test, as plainly as possible: each job gets
its own clone of the repository (a runner's checkout), artifacts and the cache are
directories copied between jobs, and `gh` (the GitHub API) is a script that records its
arguments. The pushes go to a real bare repository.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.helpers import cli, git, git_env
from tests.support.httpserver import Body, LoopbackServer, RequireHeader, Status, sha256_hex
from tests.test_template import render, run_tool

WORKFLOW = ".github/workflows/probe.yml"
SHA_PIN = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
TOKEN = "tok-PLANTED-workflow-71c3"

pytestmark = pytest.mark.usefixtures("no_ambient_credentials")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(tmp_path_factory.mktemp("probe-workflow"))


def workflow_of(repo: Path) -> dict[Any, Any]:
    doc: dict[Any, Any] = yaml.safe_load((repo / WORKFLOW).read_text("utf-8"))
    return doc


def step(doc: Mapping[Any, Any], job: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in doc["jobs"][job]["steps"] if s.get("name") == name)
    return found


# -- what GitHub and zizmor check ------------------------------------------------------------


def test_probe_workflow_passes_the_github_schema_and_zizmor(rendered: Path) -> None:
    schema = run_tool("check-jsonschema", "--builtin-schema", "vendor.github-workflows",
                      rendered / WORKFLOW, cwd=rendered)
    assert schema.returncode == 0, schema.stdout + schema.stderr
    for persona in ("regular", "pedantic"):
        audit = run_tool("zizmor", "--offline", "--no-progress", "--persona", persona,
                         rendered / WORKFLOW, cwd=rendered)
        assert audit.returncode == 0, audit.stdout + audit.stderr


def test_probe_workflow_shape(rendered: Path) -> None:
    doc = workflow_of(rendered)
    assert set(doc[True]) == {"schedule", "workflow_dispatch"}  # YAML 1.1 reads `on` as True
    assert doc[True]["workflow_dispatch"]["inputs"]["shards"]["type"] == "number"
    assert doc["permissions"] == {}
    jobs = doc["jobs"]
    assert jobs["plan"]["permissions"] == {}
    assert jobs["shard"]["permissions"] == {"contents": "read"}
    assert jobs["merge"]["permissions"] == {"contents": "write", "pull-requests": "write"}
    assert jobs["shard"]["strategy"]["matrix"]["shard"] == (
        "${{ fromJSON(needs.plan.outputs.shards) }}")
    assert jobs["shard"]["strategy"]["fail-fast"] is False
    for name, job in jobs.items():
        for s in job["steps"]:
            assert "${{" not in s.get("run", ""), (name, s)  # expressions only via env:
            uses = s.get("uses")
            if uses:
                assert SHA_PIN.match(uses), uses  # pinned by commit, as the other workflows
            if uses and uses.startswith("actions/checkout@"):
                assert s["with"]["persist-credentials"] is False
    upload = next(s for s in jobs["shard"]["steps"]
                  if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["with"]["name"] == "probe-shard-${{ matrix.shard }}"
    assert upload["with"]["path"] == "probe-out/"  # the report and the cache
    # The cache is restored by every shard and saved once, merged, by the merge job.
    restores = [s for job in ("shard", "merge") for s in jobs[job]["steps"]
                if s.get("uses", "").startswith("actions/cache/restore@")]
    saves = [s for s in jobs["merge"]["steps"]
             if s.get("uses", "").startswith("actions/cache/save@")]
    assert len(restores) == 2 and len(saves) == 1
    assert {s["with"]["key"] for s in restores + saves} == {
        "probe-hash-cache-${{ github.run_id }}"}


# -- the plan step ---------------------------------------------------------------------------


def bash(script: str, cwd: Path, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    # As GitHub runs `run:` steps: bash --noprofile --norc -eo pipefail.
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
                          cwd=cwd, env=dict(env), capture_output=True, text=True, timeout=300)


def outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


@pytest.mark.parametrize(("shards", "matrix"), [("1", [1]), ("4", [1, 2, 3, 4]),
                                                ("256", list(range(1, 257)))])
def test_plan_makes_the_matrix(rendered: Path, tmp_path: Path, shards: str,
                               matrix: list[int]) -> None:
    plan = step(workflow_of(rendered), "plan", "Plan the shards")
    out = tmp_path / "out"
    proc = bash(plan["run"], tmp_path, {**os.environ, "SHARDS": shards,
                                        "GITHUB_OUTPUT": str(out)})
    assert proc.returncode == 0, proc.stderr
    assert json.loads(outputs(out)["shards"]) == matrix and outputs(out)["count"] == shards


@pytest.mark.parametrize("shards", ["0", "257", "2.5", "", "4; touch pwned", "04"])
def test_plan_refuses_a_bad_count(rendered: Path, tmp_path: Path, shards: str) -> None:
    plan = step(workflow_of(rendered), "plan", "Plan the shards")
    proc = bash(plan["run"], tmp_path, {**os.environ, "SHARDS": shards,
                                        "GITHUB_OUTPUT": str(tmp_path / "out")})
    assert proc.returncode == 1
    assert proc.stdout == "::error::the shards input must be a whole number from 1 to 256\n"
    assert not (tmp_path / "pwned").exists()


# -- a whole run, twice -----------------------------------------------------------------------

DATA = b"gguf " * 9000
GH_STUB = """#!/bin/sh
# Stands in for the GitHub CLI: records each call; `pr list` prints OPEN_PR.
printf '%s\\n' "$*" >> "$GH_LOG"
case "$1 $2" in
  "pr list") printf '%s' "$OPEN_PR" ;;
esac
"""


class Nightly:
    """Runs the workflow's steps as GitHub would, with directories for artifacts and the
    Actions cache, and a clone of `origin` per job."""

    def __init__(self, tmp_path: Path, origin: Path, server: LoopbackServer) -> None:
        self.tmp, self.origin = tmp_path, origin
        self.doc = workflow_of(origin_checkout(origin, tmp_path / "peek"))
        self.cache = tmp_path / "actions-cache"  # what actions/cache saved last
        self.server = server
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir(exist_ok=True)
        gh = bin_dir / "gh"
        gh.write_text(GH_STUB)
        gh.chmod(0o755)
        self.gh_log = tmp_path / "gh.log"
        # `repo-tools` of the environment running the tests stands in for the pip install.
        path = f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}"
        self.env = {**git_env(), "PATH": path + os.environ.get("PATH", ""),
                    "GH_LOG": str(self.gh_log), "NO_COLOR": "1",
                    **{k: v for k, v in self.doc["env"].items() if k != "TOOLKIT"}}
        self.log = ""
        self.runs = 0

    def expand(self, env: Mapping[str, str], values: Mapping[str, str]) -> dict[str, str]:
        out = {}
        for key, value in env.items():
            for expression, replacement in values.items():
                value = value.replace("${{ " + expression + " }}", replacement)
            assert "${{" not in value, value
            out[key] = value
        return out

    def run_step(self, job: str, name: str, cwd: Path, values: Mapping[str, str],
                 **env: str) -> subprocess.CompletedProcess[str]:
        s = step(self.doc, job, name)
        proc = bash(s["run"], cwd, {**self.env, **self.expand(s.get("env", {}), values),
                                    **env})
        self.log += proc.stdout + proc.stderr
        return proc

    def restore_cache(self, checkout: Path) -> None:
        if self.cache.exists():
            shutil.copytree(self.cache, checkout / "probe-out" / "cache")

    def run(self, shards: int, *, tokens: str = "", open_pr: str = "") -> dict[str, Any]:
        self.runs += 1
        run_dir = self.tmp / f"run-{self.runs}"
        values = {"secrets.REPO_TOOLS_TOKENS": tokens, "github.token": "gh-token",
                  "github.ref_name": "main", "needs.plan.outputs.count": str(shards)}
        plan_out = run_dir / "plan-output"
        run_dir.mkdir()
        plan = self.run_step("plan", "Plan the shards", run_dir,
                             {**values, "inputs.shards || 4": str(shards)},
                             GITHUB_OUTPUT=str(plan_out))
        assert plan.returncode == 0, plan.stderr
        artifacts = run_dir / "artifacts"
        for k in json.loads(outputs(plan_out)["shards"]):
            checkout = origin_checkout(self.origin, run_dir / f"shard-{k}")
            self.restore_cache(checkout)
            proc = self.run_step("shard", "Probe this shard", checkout,
                                 {**values, "matrix.shard": str(k)})
            assert proc.returncode == 0, proc.stdout + proc.stderr
            # actions/upload-artifact of probe-out/, named probe-shard-K
            shutil.copytree(checkout / "probe-out", artifacts / f"probe-shard-{k}")

        checkout = origin_checkout(self.origin, run_dir / "merge")
        shutil.copytree(artifacts, checkout / "shards")  # actions/download-artifact
        self.restore_cache(checkout)
        summary, merge_out = run_dir / "summary.md", run_dir / "merge-output"
        merged = self.run_step("merge", "Merge the shards", checkout, values,
                               GITHUB_STEP_SUMMARY=str(summary), GITHUB_OUTPUT=str(merge_out))
        assert merged.returncode == 0, merged.stdout + merged.stderr
        shutil.rmtree(self.cache, ignore_errors=True)  # actions/cache/save
        shutil.copytree(checkout / "probe-out" / "cache", self.cache)
        pr = self.run_step("merge", "Open or update the pull request", checkout, values,
                           OPEN_PR=open_pr)
        assert pr.returncode == 0, pr.stdout + pr.stderr
        status = outputs(merge_out)["status"]
        final = self.run_step("merge", "Fail on findings left", checkout,
                              {**values, "steps.merge.outputs.status": status})
        return {"summary": summary.read_text(), "status": status, "final": final,
                "artifacts": artifacts, "pr": pr.stdout}


def origin_checkout(origin: Path, dest: Path) -> Path:
    subprocess.run(["git", "clone", "-q", str(origin), str(dest)], check=True, env=git_env(),
                   capture_output=True, timeout=120)
    return dest


def test_nightly_runs_probe_merge_summarise_and_open_one_pull_request(
        tmp_path: Path, server: LoopbackServer) -> None:
    repo = render(tmp_path / "out")
    for i in range(8):
        server.route(f"/m/{i}.gguf", Body(DATA + bytes([i]), etag=f'"m{i}"'))
    server.route("/private.gguf", RequireHeader("Authorization", f"Bearer {TOKEN}",
                                                Body(DATA, etag='"p"')))
    server.route("/gone.gguf", Status(404))
    models_path = next((repo / "versions").glob("*/models/*.json"))
    doc = json.loads(models_path.read_text())
    template_entry = doc["models"][0]
    entries = []
    for i in range(8):
        entry = json.loads(json.dumps(template_entry))
        entry["model"] = f"model-{i}"
        entry["download"]["url"] = server.url(f"/m/{i}.gguf")
        entry["download"]["cachePath"] = f"m/{i}.gguf"
        entry["download"]["sha256"] = (sha256_hex(DATA + bytes([i])) if i % 3
                                       else "0" * 64)  # 0, 3 and 6 are wrong
        entries.append(entry)
    private = json.loads(json.dumps(template_entry))
    private["model"] = "private"
    private["download"].update(url=server.url("/private.gguf"), cachePath="m/p.gguf")
    del private["download"]["sha256"]
    entries.append(private)
    doc["models"] = entries
    models_path.write_text(json.dumps(doc, indent=2) + "\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "catalogue")
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(origin)], check=True,
                   env=git_env(), capture_output=True)

    # What `probe --write` alone would make of the same catalogue (the reference).
    reference = origin_checkout(origin, tmp_path / "reference")
    tokens = f"http://127.0.0.1:{server.port}={TOKEN}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REPO_TOOLS_TOKENS", tokens)
        expected = cli("probe", "--hash", "--write", "--no-cache", "--format", "json",
                       cwd=reference)
    assert expected.exit_code == 0, expected.stdout
    server.reset_log()

    nightly = Nightly(tmp_path, origin, server)
    first = nightly.run(3, tokens=tokens)
    assert first["status"] == "0"
    assert first["final"].returncode == 0
    assert "## repo-tools probe" in first["summary"]
    assert "9 URL(s) of 1 file(s) in 3 shard(s)" in first["summary"]
    assert "**Fixed by --write** (4, in 1 file(s))" in first["summary"]  # 3 wrong, 1 missing
    assert server.body_requests() == 9  # every file hashed once, in one shard or another
    # The pull request's branch holds exactly what `probe --write` makes of the files.
    pushed = git(origin, "show", f"repo-tools/probe-sha256:{models_path.relative_to(repo)}")
    assert pushed + "\n" == next((reference / "versions").glob("*/models/*.json")).read_text()
    calls = nightly.gh_log.read_text().splitlines()
    assert calls[0] == "auth setup-git"
    assert calls[1].startswith("pr list --head repo-tools/probe-sha256 --state open")
    assert calls[2].startswith("pr create --head repo-tools/probe-sha256 --base main")

    # The next night starts from the merged cache: one HEAD per URL, no body bytes, and
    # the pull request (still open) is updated, not opened again.
    server.reset_log()
    nightly.gh_log.unlink()
    second = nightly.run(2, tokens=tokens, open_pr="12")
    assert server.body_requests() == 0
    assert server.count(method="HEAD") == len(server.requests) == 9
    assert "updated the open pull request" in second["pr"]
    assert not any(c.startswith("pr create") for c in nightly.gh_log.read_text().splitlines())

    # A URL that breaks: the summary says so, the run fails after the pull request step.
    server.route("/m/1.gguf", Status(404))
    third = nightly.run(2, tokens=tokens, open_pr="12")
    assert third["status"] == "1" and third["final"].returncode == 1
    assert "| P001 |" in third["summary"]
    assert "::error::repo-tools probe found problems" in third["final"].stdout

    texts = [nightly.log, first["summary"], second["summary"], third["summary"]]
    texts += [p.read_text("utf-8", "replace") for run in (first, second, third)
              for p in run["artifacts"].rglob("*") if p.is_file()]
    assert all(TOKEN not in text for text in texts)


def test_a_missing_shard_fails_the_merge_clearly(tmp_path: Path, server: LoopbackServer,
                                                 rendered: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(rendered, repo)
    doc = workflow_of(repo)
    models_path = next((repo / "versions").glob("*/models/*.json"))
    example = json.loads(models_path.read_text())["models"][0]["download"]["url"]
    models_path.write_text(models_path.read_text().replace(
        example, server.route("/gone.gguf", Status(404))))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "template")
    probe = step(doc, "shard", "Probe this shard")
    env = {**git_env(), "PATH": f"{Path(sys.executable).parent}{os.pathsep}"
           f"{os.environ.get('PATH', '')}", "SHARD": "1/2", "REPO_TOOLS_TOKENS": ""}
    # A finding (exit 1, the 404) is not a failure of the shard; only exit 2 is.
    proc = bash(probe["run"], repo, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    shutil.copytree(repo / "probe-out", repo / "shards" / "probe-shard-1")
    merged = bash(step(doc, "merge", "Merge the shards")["run"], repo,
                  {**env, "GITHUB_STEP_SUMMARY": str(tmp_path / "s.md"),
                   "GITHUB_OUTPUT": str(tmp_path / "o")})
    assert merged.returncode == 2
    assert "missing shard(s) 2/2" in merged.stderr
    assert outputs(tmp_path / "o") == {"status": "2"}
