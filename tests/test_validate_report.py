"""The renderers against their specs: SARIF 2.1.0 (the vendored OASIS schema and the
URI rules it states in prose) and GitHub's workflow-command escaping."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote, urlsplit

import jsonschema
from hypothesis import given
from hypothesis import strategies as st

from repo_tools.findings import Finding, Severity
from repo_tools.report import artifact_uri, render_github, render_sarif, render_text
from tests.support.helpers import cli, config, make_repo, model

SARIF_SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json")
                          .read_text("utf-8"))
# RFC 3986: the characters a URI reference may hold (anything else is percent-encoded).
URI_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                      "-._~:/?#[]@!$&'()*+,;=%")


def at(path: str, message: str = "m", line: int = 3, column: int = 5) -> Finding:
    return Finding("V001", Severity.ERROR, path, message, "/models/0/version", line, column)


def test_sarif_of_a_real_run_validates_against_the_schema(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"v1.0.0/huggingface": config(model(version="1.0"),
                                                             model(model="β 7B", ranking="x"))})
    run = cli("validate", "--format", "sarif", cwd=repo)
    doc = json.loads(run.stdout)
    jsonschema.validate(doc, SARIF_SCHEMA)
    assert doc["runs"][0]["columnKind"] == "unicodeCodePoints"
    results = doc["runs"][0]["results"]
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    assert {r["ruleId"] for r in results} == {"V001", "S002"}
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == "versions/v1.0.0/models/huggingface.json"
        assert location["region"]["startLine"] >= 1


@given(st.text(min_size=1, max_size=20).filter(lambda s: "\x00" not in s))
def test_sarif_uris_are_uri_references_that_name_the_file(name: str) -> None:
    path = f"versions/v1.0.0/models/{name}.json"
    for shown in (path, f"/abs/{path}", f"{name}.json"):
        uri = json.loads(render_sarif([at(shown)], 1))["runs"][0]["results"][0][
            "locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert set(uri) <= URI_CHARS, uri
        parts = urlsplit(uri)
        assert parts.query == "" and parts.fragment == ""  # '?' and '#' did not cut it
        if shown.startswith("/"):
            assert parts.scheme == "file"
        else:
            assert parts.scheme == ""  # relative: resolved against the checkout
        assert unquote(parts.path, errors="surrogateescape") == shown
    assert artifact_uri("versions/a b#1?.json") == "versions/a%20b%231%3F.json"
    assert artifact_uri("a:b/c:d.json") == "a%3Ab/c:d.json"  # else 'a' reads as a scheme


def test_columns_count_characters_as_sarif_is_told(tmp_path: Path) -> None:
    # An astral character (two UTF-16 units) before the value: the column is in code
    # points, which is what the SARIF run declares.
    doc = config(model(model="🦙 llama"))
    doc["models"][0]["version"] = "1.0"
    path = make_repo(tmp_path, {"v1.0.0/huggingface": doc}) / (
        "versions/v1.0.0/models/huggingface.json")
    path.write_text(json.dumps(doc, ensure_ascii=False), "utf-8")  # one line
    sarif = json.loads(cli("validate", path, "--format", "sarif").stdout)
    region = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    text = path.read_text("utf-8")
    assert text[region["startColumn"] - 1:].startswith('"1.0"')


def unescape_data(text: str) -> str:
    return text.replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")


def unescape_property(text: str) -> str:
    return unescape_data(text.replace("%2C", ",").replace("%3A", ":"))


@given(st.text(max_size=30), st.text(min_size=1, max_size=30))
def test_github_annotations_round_trip_through_the_runner_escaping(message: str,
                                                                   path: str) -> None:
    out = render_github([at(path, message)], 1)
    assert out.endswith("\n") and out.count("\n") == 1  # one command, one line
    head, sep, data = out[:-1].partition("::")[2].partition("::")
    assert sep == "::"
    level, _, props = head.partition(" ")
    assert level == "error"
    fields = dict(p.split("=", 1) for p in props.split(","))
    assert fields.keys() == {"file", "line", "col", "title"}
    assert unescape_property(fields["file"]) == path
    assert (fields["line"], fields["col"], fields["title"]) == ("3", "5", "V001")
    assert unescape_data(data) == f"V001 {message}"


def test_text_output_cannot_be_forged_or_recoloured_by_file_content() -> None:
    out = render_text([at("f.json", "provider 'a\nf.json:1:1: V000 fake\x1b[2J' is odd")], 1)
    lines = out.splitlines()
    assert len(lines) == 2 and "\x1b" not in out
    assert lines[0] == "f.json:3:5: V001 provider 'a\\nf.json:1:1: V000 fake\\x1b[2J' is odd"


def test_color_choice_and_no_color(tmp_path: Path) -> None:
    import os

    from tests.support.helpers import config, make_repo, model, run_tool

    repo = make_repo(tmp_path, {"v1.0.0/huggingface": config(model(version="1.0"))})
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    always = run_tool("--color", "always", "validate", "--repo", repo, env=env)
    assert "\x1b[31m\x1b[1mV001\x1b[0m" in always.stdout
    never = run_tool("--color", "never", "validate", "--repo", repo, env=env)
    assert "\x1b[" not in never.stdout and " V001 " in never.stdout
    # auto: not a terminal here, and NO_COLOR also turns it off
    assert "\x1b[" not in run_tool("validate", "--repo", repo, env=env).stdout
    no_color = run_tool("--color", "auto", "validate", "--repo", repo,
                        env={**env, "NO_COLOR": "1"})
    assert "\x1b[" not in no_color.stdout
    assert run_tool("--color", "sometimes", "validate", env=env).exit_code == 2


def test_every_command_has_help() -> None:
    from repo_tools.cli import COMMANDS
    from tests.support.helpers import cli

    for name in COMMANDS:
        run = cli(name, "--help")
        assert run.exit_code == 0 and "Usage: " in run.stdout, name
    assert cli("--help").exit_code == 0
