"""docs/probe-at-scale.md: its shell sessions run for real against a demo catalogue on a
loopback server (shown in the page as https://files.example.com), and what it says about
the report, the options and the workflow is held to the code."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from repo_tools.schemas import PROBE_REPORT, load_schema
from tests.support.docs import section
from tests.support.helpers import make_repo, model
from tests.support.httpserver import Body, LoopbackServer, Status, sha256_hex
from tests.test_readme_examples import block, run_session

SHOWN = "https://files.example.com"
A, B, C = b"weights of a\n" * 1000, b"weights of b\n" * 1000, b"weights of c\n" * 1000

pytestmark = pytest.mark.usefixtures("no_ambient_credentials")


def demo(root: Path, server: LoopbackServer) -> Path:
    """The page's catalogue: one file, five entries, four distinct URLs."""
    server.route("/a.gguf", Body(A, etag='"a-1"'))
    server.route("/b.gguf", Body(B, etag='"b-1"'))
    server.route("/c.gguf", Body(C, etag='"c-1"'))
    server.route("/gone.gguf", Status(404))

    def entry(name: str, path: str, sha: str | None) -> dict[str, object]:
        download: dict[str, object] = {"url": server.url(path), "cachePath": f"demo/{path[1:]}"}
        if sha is not None:
            download["sha256"] = sha
        return model(model=name, provider="demo", download=download)

    models = [entry("a-q4", "/a.gguf", sha256_hex(A)), entry("b-q4", "/b.gguf", None),
              entry("gone-q4", "/gone.gguf", sha256_hex(A)),
              entry("c-q4", "/c.gguf", "0" * 64), entry("a-q4-mirror", "/a.gguf",
                                                         sha256_hex(A))]
    return make_repo(root, {"v1.0.0/demo": {"schema_version": "2.0", "models": models}})


@pytest.fixture
def catalogue(tmp_path: Path, server: LoopbackServer) -> tuple[Path, dict[str, str]]:
    root = demo(tmp_path / "demo", server)
    return root, {SHOWN: f"http://127.0.0.1:{server.port}"}


def test_sharding_and_merging_sessions(catalogue: tuple[Path, dict[str, str]]) -> None:
    root, shown = catalogue
    run_session(block("probe-shard", "--shard 1/2"), root, replace=shown)
    run_session(block("probe-merge", "Found 3 error(s)"), root, replace=shown)
    run_session(block("probe-merge", "missing shard"), root, replace=shown)
    run_session(block("probe-merge", "--summary summary.md"), root, replace=shown)


def test_cache_session(catalogue: tuple[Path, dict[str, str]]) -> None:
    root, shown = catalogue
    run_session(block("probe-shard", "--shard 1/2"), root, replace=shown)
    run_session(block("probe-cache", "--cache-from cache-1"), root, replace=shown)


def test_report_session(catalogue: tuple[Path, dict[str, str]]) -> None:
    root, shown = catalogue
    run_session(block("probe-shard", "--shard 1/2"), root, replace=shown)
    run_session(block("probe-report", "jq"), root, replace=shown)


def test_every_report_field_is_documented() -> None:
    text = section("probe-report")
    schema = load_schema(PROBE_REPORT)
    for field in [*schema["properties"], *schema["$defs"]["url"]["properties"]]:
        assert f"`{field}`" in text, field
    assert "schemas/probe_report.schema.json" in text
    failure = schema["$defs"]["url"]["properties"]["failure"]["oneOf"][1]
    assert ", ".join(failure["properties"]["rule"]["enum"]) in text


def test_the_merge_refusals_and_options_are_documented() -> None:
    from repo_tools.probe_options import PROBE_OPTIONS

    text = section("probe-merge")
    for option in PROBE_OPTIONS.values():
        if option.compared and option.key != "cache":
            assert f"`{option.flag}`" in text or f"`--{option.key}`" in text, option.key
    assert "`--no-cache`" in text
    for option in ("jobs", "cache-dir"):
        assert f"`--{option}`" in text and not PROBE_OPTIONS[option].compared


def test_the_workflow_section_describes_the_workflow(tmp_path: Path) -> None:
    from tests.test_template import render

    text = section("probe-workflow")
    doc = yaml.safe_load((render(tmp_path) / ".github/workflows/probe.yml").read_text())
    for job in doc["jobs"].values():
        assert f"**{job['name'].replace('${{ matrix.shard }}', 'K')}**" in text, job["name"]
    cron = doc[True]["schedule"][0]["cron"].split()
    assert f"{int(cron[1]):02d}:{int(cron[0]):02d} UTC" in text
    assert f"uses {doc[True]['workflow_dispatch']['inputs']['shards']['default']})" in text
    merge = doc["jobs"]["merge"]
    assert re.search(r"`contents: write` and `pull-requests: write` for the merge job",
                     text) and merge["permissions"] == {"contents": "write",
                                                        "pull-requests": "write"}
    assert f"`{doc['env']['BRANCH']}`" in text
    assert json.dumps(doc["jobs"]["shard"]["permissions"]) == '{"contents": "read"}'
