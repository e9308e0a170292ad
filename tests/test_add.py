"""`repo-tools add` against a real HTTP server on 127.0.0.1 that answers like Hugging Face."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from repo_tools.add import AddRefused, download_url, names_from_url
from tests.support.helpers import Run, cli, config, findings_json, make_repo, model
from tests.support.httpserver import Body, LoopbackServer, Redirect, Status, sha256_hex

DATA = bytes(range(256)) * 64
DATA_SHA = sha256_hex(DATA)
FILE = "/TheOrg/Tiny-GGUF/resolve/main/tiny.Q4_K_M.gguf"

pytestmark = pytest.mark.usefixtures("no_ambient_credentials")


def hf_like(server: LoopbackServer, path: str = FILE, sha: str = DATA_SHA) -> str:
    """HEAD on /resolve/ is a 302 to a CDN path, stating the LFS digest and size."""
    server.route("/cdn/blob-123", Body(DATA))
    return server.route(path, Redirect("/cdn/blob-123", headers={
        "X-Linked-Etag": f'"{sha}"', "X-Linked-Size": str(len(DATA))}))


def add(tmp_path: Path, url: str, *args: str) -> Run:
    return cli("add", url, "--config-version", "v1.0.0", "--repo", tmp_path / "repo",
               "--no-cache", "--retries", "0", *args, cwd=tmp_path)


def model_file(tmp_path: Path, provider: str = "TheOrg") -> Path:
    return tmp_path / "repo" / "versions" / "v1.0.0" / "models" / f"{provider}.json"


def test_adds_a_hugging_face_like_file_without_requesting_its_body(
        tmp_path: Path, server: LoopbackServer) -> None:
    url = hf_like(server)
    run = add(tmp_path, url, "--min-client", "1.2.0", "--platform", "linux",
              "--platform", "macos", "--ranking", "5")
    # Plain http is added, with the usual warning.
    assert run.exit_code == 0, run.stdout + run.stderr
    assert [f["rule"] for f in findings_json(cli("validate", model_file(tmp_path),
                                                 "--format", "json"))] == ["V004"]
    assert json.loads(model_file(tmp_path).read_text()) == {
        "schema_version": "2.0",
        "models": [{
            "model": "tiny.Q4_K_M", "provider": "TheOrg", "version": "1.0.0", "ranking": 5,
            "download": {"url": url, "sha256": DATA_SHA,
                         "cachePath": "TheOrg/Tiny-GGUF/tiny.Q4_K_M.gguf", "size": len(DATA)},
            "compatibility": {"min_client_version": "1.2.0",
                              "supported_platforms": ["linux", "macos"]},
        }],
    }
    assert server.body_requests() == 0
    assert server.count(FILE, "HEAD") == 1 and server.count("/cdn/blob-123", "HEAD") == 1
    assert server.count() == 2
    assert "added TheOrg/tiny.Q4_K_M 1.0.0 to repo/versions/v1.0.0/models/TheOrg.json" in (
        run.stderr)
    assert "X-Linked-Etag" in run.stderr and "2 request(s)" in run.stderr


def test_without_a_stated_digest_the_body_is_streamed_through_the_hasher(
        tmp_path: Path, server: LoopbackServer) -> None:
    url = server.route("/files/plain.bin", Body(DATA))
    run = add(tmp_path, url, "--provider", "acme", "--model", "plain")
    assert run.exit_code == 0, run.stdout + run.stderr
    entry = json.loads(model_file(tmp_path, "acme").read_text())["models"][0]
    assert entry["download"] == {"url": url, "sha256": DATA_SHA,
                                 "cachePath": "127.0.0.1/plain.bin", "size": len(DATA)}
    assert server.body_requests("/files/plain.bin") == 1


def test_appends_keeping_the_file_layout_symlink_and_mode(tmp_path: Path,
                                                          server: LoopbackServer) -> None:
    existing = model(provider="TheOrg", model="old")
    target = tmp_path / "elsewhere.json"
    # Tabs, CRLF and a non-ASCII escape: a layout json.dumps would not write back.
    text = json.dumps(config(existing), indent="\t", ensure_ascii=True).replace("\n", "\r\n")
    target.write_bytes((text.replace('"old"', '"\\u00f6ld"') + "\r\n").encode())
    target.chmod(0o640)
    path = model_file(tmp_path)
    path.parent.mkdir(parents=True)
    path.symlink_to(target)
    before = target.read_bytes().decode()
    assert add(tmp_path, hf_like(server)).exit_code == 0
    assert path.is_symlink() and stat.S_IMODE(target.stat().st_mode) == 0o640
    after = target.read_bytes().decode()
    # The old text is kept byte for byte up to where the new entry is inserted.
    cut = before.rstrip().rfind("}", 0, before.rstrip().rfind("]"))
    assert after.startswith(before[:cut + 1])
    assert after.endswith(before[cut + 1:]) and "\r\n\t\t{\r\n\t\t\t\"model\"" in after
    data = json.loads(after)
    assert data["models"][0]["model"] == "\u00f6ld"
    assert [m["model"] for m in data["models"]] == ["\u00f6ld", "tiny.Q4_K_M"]


def test_a_duplicate_identity_is_refused_and_nothing_written(
        tmp_path: Path, server: LoopbackServer) -> None:
    url = hf_like(server)
    assert add(tmp_path, url).exit_code == 0
    before = model_file(tmp_path).read_bytes()
    run = add(tmp_path, url, "--format", "json")
    assert run.exit_code == 1
    assert "V008" in {f["rule"] for f in findings_json(run)}
    assert model_file(tmp_path).read_bytes() == before
    # Another version of the same model is a new identity.
    assert add(tmp_path, url, "--version", "1.1.0").exit_code == 0
    assert len(json.loads(model_file(tmp_path).read_text())["models"]) == 2


def test_a_duplicate_in_another_file_of_the_config_version_is_refused(
        tmp_path: Path, server: LoopbackServer) -> None:
    make_repo(tmp_path / "repo", {"v1.0.0/other": config(
        model(provider="TheOrg", model="tiny.Q4_K_M", version="1.0.0"))})
    run = add(tmp_path, hf_like(server))
    assert run.exit_code == 1 and "other.json" in run.stdout and "V008" in run.stdout
    assert not model_file(tmp_path).exists()


def test_dry_run_shows_the_entry_and_writes_nothing(tmp_path: Path,
                                                    server: LoopbackServer) -> None:
    run = add(tmp_path, hf_like(server), "--dry-run")
    assert run.exit_code == 0
    assert "would add TheOrg/tiny.Q4_K_M" in run.stderr and DATA_SHA in run.stderr
    assert not (tmp_path / "repo").exists()


def test_a_url_that_does_not_answer_is_refused(tmp_path: Path, server: LoopbackServer) -> None:
    run = add(tmp_path, server.route("/gone.bin", Status(404)), "--format", "json")
    assert run.exit_code == 1
    assert [f["rule"] for f in findings_json(run)] == ["P001"]
    assert not (tmp_path / "repo").exists()


def test_a_repository_url_needs_file(tmp_path: Path) -> None:
    run = add(tmp_path, "https://huggingface.co/TheOrg/Tiny-GGUF", "--format", "json")
    assert run.exit_code == 1
    found = findings_json(run)
    assert [f["rule"] for f in found] == ["V003"] and "--file" in found[0]["message"]


@pytest.mark.parametrize(("url", "file", "expected"), [
    ("https://huggingface.co/o/r/blob/main/a/b.gguf", None,
     "https://huggingface.co/o/r/resolve/main/a/b.gguf"),
    ("  https://huggingface.co/o/r/resolve/main/b.gguf\n", None,
     "https://huggingface.co/o/r/resolve/main/b.gguf"),
    ("https://huggingface.co/o/r", "b.gguf", "https://huggingface.co/o/r/resolve/main/b.gguf"),
    ("https://huggingface.co/o/r/tree/v2/", "x/b.gguf",
     "https://huggingface.co/o/r/resolve/v2/x/b.gguf"),
    ("https://example.org/files/b.gguf", None, "https://example.org/files/b.gguf"),
])
def test_download_url(url: str, file: str | None, expected: str) -> None:
    assert download_url(url, file) == expected


@pytest.mark.parametrize(("url", "file"), [
    ("https://example.org/files/b.gguf", "b.gguf"),
    ("ftp://example.org/b.gguf", None),
    ("https://huggingface.co/o/r", None),
])
def test_download_url_refusals(url: str, file: str | None) -> None:
    with pytest.raises(AddRefused) as caught:
        download_url(url, file)
    assert caught.value.code == "V003"


@pytest.mark.parametrize(("url", "names"), [
    ("https://huggingface.co/TheBloke/zephyr-GGUF/resolve/main/zephyr.Q4_K_S.gguf",
     ("TheBloke", "zephyr.Q4_K_S", "TheBloke/zephyr-GGUF/zephyr.Q4_K_S.gguf")),
    ("https://www.example.org/dl/model%20one.bin?x=1",
     ("example.org", "model one", "example.org/model one.bin")),
    ("https://example.org/", ("example.org", "download", "example.org/download")),
])
def test_names_from_url(url: str, names: tuple[str, str, str]) -> None:
    found: Any = names_from_url(url)
    assert (found.provider, found.model, found.cache_path) == names


def test_a_token_in_the_query_is_not_shown_in_findings(tmp_path: Path,
                                                       server: LoopbackServer) -> None:
    url = server.route("/private.bin", Status(403)) + "?token=s3cret-tk"
    run = add(tmp_path, url)
    assert run.exit_code == 1 and "P001" in run.stdout
    assert "s3cret-tk" not in run.stdout + run.stderr
    assert os.listdir(tmp_path) == []


def test_credentials_in_the_url_are_refused_before_any_request(
        tmp_path: Path, server: LoopbackServer) -> None:
    url = hf_like(server).replace("://", "://user:s3cret-pw@")
    run = add(tmp_path, url, "--format", "json")
    assert run.exit_code == 1 and [f["rule"] for f in findings_json(run)] == ["V003"]
    assert "credentials" in run.stdout and "s3cret-pw" not in run.stdout + run.stderr
    assert server.count() == 0


@pytest.mark.parametrize("provider", ["../escape", "a/b", "..", " "])
def test_a_provider_that_cannot_name_a_file_is_refused(tmp_path: Path, server: LoopbackServer,
                                                       provider: str) -> None:
    run = add(tmp_path, hf_like(server), "--provider", provider, "--format", "json")
    assert run.exit_code == 1 and [f["rule"] for f in findings_json(run)] == ["V010"]
    assert not (tmp_path / "repo").exists() and not (tmp_path / "escape.json").exists()


@pytest.mark.parametrize("name", ["1.0.0", "../v1.0.0", "v1"])
def test_config_version_must_be_a_config_version_name(tmp_path: Path, name: str) -> None:
    run = cli("add", "https://example.org/m.gguf", "--config-version", name,
              "--repo", tmp_path / "repo")
    assert run.exit_code == 2 and "--config-version" in run.stderr


# -- the append itself, on generated files ------------------------------------------------

# A name of only white space is empty to V010 (as to a person reading the catalog).
_NAME = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1,
                max_size=6).filter(lambda name: name.strip() != "")
_STYLE = st.sampled_from([{"indent": 2}, {"indent": 4}, {"indent": "\t"}, {},
                          {"indent": 2, "ensure_ascii": False}, {"separators": (",", ":")},
                          {"indent": 0}])


@given(names=st.lists(_NAME, max_size=3, unique=True), new=st.lists(_NAME, min_size=1,
                                                                     max_size=3, unique=True),
       style=_STYLE, crlf=st.booleans())
def test_appending_keeps_every_old_byte_and_parses_to_old_plus_new(
        tmp_path_factory: pytest.TempPathFactory, names: list[str], new: list[str],
        style: dict[str, Any], crlf: bool) -> None:
    from repo_tools.additions import plan_addition
    from repo_tools.jsonfile import parse_strict

    new = [n for n in new if n not in names] or ["fresh-" + "".join(names)]
    document = config(*[model(model=n, provider="p") for n in names]) if names else {
        "schema_version": "2.0", "models": []}
    path = tmp_path_factory.mktemp("append") / "p.json"
    text = json.dumps(document, **style) + "\n"
    text = text.replace("\n", "\r\n") if crlf else text
    path.write_bytes(text.encode())
    entries = [model(model=n, provider="p") for n in new]
    plan = plan_addition(path, "p.json", entries, {})
    assert plan.new_text is not None, plan.findings
    assert parse_strict(plan.new_text) == {**document, "models": document["models"] + entries}
    if names:
        # Everything before the insertion point and after it is the old text, unchanged.
        cut = text.rstrip().rfind("}", 0, text.rstrip().rfind("]")) + 1
        assert plan.new_text.startswith(text[:cut]) and plan.new_text.endswith(text[cut:])
    if crlf:
        assert "\n" not in plan.new_text.replace("\r\n", "")
