"""Issue 15: what passes the checks can be published, and what is published clients accept.

Each case of the issue is replayed here as a maintainer meets it: through the real CLI, on
real git repositories, signed by real keys, read back by the real client.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from repo_tools.checks import placeholders
from repo_tools.checks.publishable import colliding_paths, collision_key
from repo_tools.client import BundleSource, ClientConfig, ConfigClient
from repo_tools.release.archive import collect
from repo_tools.release.errors import ReleaseRefused
from tests.support.helpers import (
    cli,
    config,
    findings_json,
    git,
    make_repo,
    model,
    rules_of,
    write_json,
)
from tests.support.release_helpers import (
    INDEX,
    allowed_line,
    commit_all,
    git_config_repo,
    write_ssh_key,
)

KEY = Ed25519PrivateKey.generate()
OTHER_KEY = Ed25519PrivateKey.generate()
TEMPLATE_DEFAULTS = json.loads(
    (Path(__file__).resolve().parents[1] / "template-repo/cookiecutter.json").read_text())


def messages(run: Any, rule: str) -> list[str]:
    return [f["message"] for f in findings_json(run) if f["rule"] == rule]


# -- case 1: names that are one file on macOS and Windows ---------------------------------


def test_case_colliding_provider_files_are_reported_by_lint_with_a_rename(
        tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {
        "v1.0.0/bartowski": config(model(provider="bartowski")),
        "versions/v1.0.0/models/Bartowski.json": config(model(
            provider="bartowski", model="other", download={
                "url": "https://example.org/o.gguf", "sha256": "c" * 64,
                "cachePath": "bartowski/o.gguf"}))}, INDEX)
    run = cli("lint", "--repo", repo, "--format", "json", cwd=tmp_path)
    assert run.exit_code == 1
    [found] = [f for f in findings_json(run) if f["rule"] == "R038"]
    assert found["path"] == "repo/versions/v1.0.0/models/Bartowski.json"
    assert "merge its models into 'bartowski.json'" in found["message"]
    assert ("git mv 'versions/v1.0.0/models/Bartowski.json' "
            "'versions/v1.0.0/models/Bartowski-2.json'") in found["message"]
    # check-index (the hook on every commit) says the same
    hook = cli("check-index", "--format", "json", cwd=repo)
    assert hook.exit_code == 1 and "R038" in rules_of(hook)
    # and release refuses the tree with the same code
    with pytest.raises(ReleaseRefused) as refused:
        collect(repo, use_git=False)
    assert refused.value.code == "R038"


def test_unicode_normalisation_collisions_and_free_renames() -> None:
    nfc = unicodedata.normalize("NFC", "versions/v1.0.0/models/café.json")
    nfd = unicodedata.normalize("NFD", nfc)
    [collision] = colliding_paths([nfd, nfc, "versions/v1.0.0/models/café-2.json"])
    assert (collision.path, collision.first) == (nfd, nfc)  # the NFC name is kept
    assert collision.rename == "versions/v1.0.0/models/café-3.json"  # -2 is taken
    assert colliding_paths(["versions/v1.0.0/models/a.json",
                            "versions/v1.1.0/models/A.json"]) == []


LEAVES = ["a.json", "A.json", "café.json", unicodedata.normalize("NFD", "café.json"),
          "Café.json", "a-2.json", "A-2.json", "b.json"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["versions/v1.0.0/models", "versions/v2.0.0/models"]),
                          st.sampled_from(LEAVES)).map("/".join), max_size=10))
def test_each_colliding_group_keeps_one_name_and_gets_free_renames(names: list[str]) -> None:
    found = colliding_paths(names)
    groups: dict[str, set[str]] = {}
    for name in names:
        groups.setdefault(collision_key(name), set()).add(name)
    # Every name but one of each group is reported, against the one kept.
    assert sorted(c.path for c in found) == sorted(
        n for group in groups.values() if len(group) > 1 for n in group
        if n not in {c.first for c in found})
    assert len(found) == sum(len(g) - 1 for g in groups.values())
    for c in found:
        assert collision_key(c.path) == collision_key(c.first) and c.first not in {
            d.path for d in found}
    # The renames collide with nothing: no name given, no other rename.
    renamed = [collision_key(c.rename) for c in found]
    assert len(set(renamed)) == len(renamed) and not set(renamed) & set(groups)


def test_unsafe_symlinks_are_reported_by_lint(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"v1.0.0/huggingface": config()}, INDEX)
    models = repo / "versions/v1.0.0/models"
    (models / "gone.json").symlink_to(tmp_path / "nowhere.json")
    (models / "loop.json").symlink_to(models / "loop.json")
    run = cli("lint", "--repo", repo, "--format", "json", cwd=tmp_path)
    assert {f["path"] for f in findings_json(run) if f["rule"] == "R039"} == {
        "repo/versions/v1.0.0/models/gone.json", "repo/versions/v1.0.0/models/loop.json"}
    # In a git work tree the names come from git (tracked files), the links from listings.
    git(tmp_path, "init", "-q", str(repo))
    commit_all(repo, "links")
    run = cli("lint", "--repo", repo, "--format", "json", cwd=tmp_path)
    assert {f["path"] for f in findings_json(run) if f["rule"] == "R039"} == {
        "repo/versions/v1.0.0/models/gone.json", "repo/versions/v1.0.0/models/loop.json"}


# -- case 2: a key the repository's allowed_signers does not trust -------------------------


@pytest.fixture
def signed_repo(tmp_path: Path) -> dict[str, Path]:
    repo = git_config_repo(tmp_path / "repo")
    (repo / "allowed_signers").write_text(allowed_line(KEY))
    commit_all(repo, "trust KEY")
    return {"repo": repo, "tmp": tmp_path, "out": tmp_path / "out",
            "key": write_ssh_key(tmp_path / "key", KEY),
            "other": write_ssh_key(tmp_path / "other", OTHER_KEY)}


def release(s: dict[str, Path], *extra: str | Path, key: str = "key") -> Any:
    return cli("release", "--repo", s["repo"], "--key", s[key], "--out", s["out"],
               "--created", "now", *extra, cwd=s["tmp"])


def test_case_untrusted_signing_key_is_refused_before_publishing(
        signed_repo: dict[str, Path]) -> None:
    refused = release(signed_repo, "--format", "json", key="other")
    assert refused.exit_code == 1 and rules_of(refused) == {"R040"}
    [message] = messages(refused, "R040")
    assert "allowed_signers does not accept this signature (R005" in message
    assert not signed_repo["out"].exists()
    ok = release(signed_repo)
    assert ok.exit_code == 0, ok.stdout
    assert f"signature accepted by {signed_repo['repo'] / 'allowed_signers'}" in ok.stdout


def test_key_listed_for_another_namespace_is_refused(signed_repo: dict[str, Path]) -> None:
    (signed_repo["repo"] / "allowed_signers").write_text(
        allowed_line(KEY, options='namespaces="git"'))
    commit_all(signed_repo["repo"], "git only")
    refused = release(signed_repo, "--format", "json")
    assert refused.exit_code == 1 and rules_of(refused) == {"R040"}
    assert "not allowed for namespace 'repo-tools-release@v1'" in messages(refused, "R040")[0]


# -- case 3: a release most clients refuse ----------------------------------------------


def many_models(count: int) -> dict[str, Any]:
    return config(*(model(model=f"m{i:02}", compatibility={"min_client_version": "1.0.0"},
                          download={"url": f"https://example.org/m{i}.gguf",
                                    "sha256": f"{i:064x}"[-64:].replace("0", "e"),
                                    "cachePath": f"huggingface/m{i}.gguf"})
                    for i in range(count)))


def test_case_release_predicts_the_clients_shrink_guard(tmp_path: Path) -> None:
    repo = git_config_repo(tmp_path / "repo", many_models(40))
    s = {"repo": repo, "tmp": tmp_path, "out": tmp_path / "out",
         "key": write_ssh_key(tmp_path / "key", KEY)}
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(allowed_line(KEY))
    assert release(s).exit_code == 0
    first = tmp_path / "first"
    first.mkdir()
    for p in s["out"].iterdir():
        (first / p.name).write_bytes(p.read_bytes())
    client = ConfigClient("1.2.0", "linux", source=BundleSource(str(s["out"])),
                          allowed_signers=allowed, cache_dir=tmp_path / "cache")
    assert len(client.load().models) == 40

    doc = many_models(40)
    doc["models"] = doc["models"][26:]
    write_json(repo / "versions/v1.0.0/models/huggingface.json", doc)
    commit_all(repo, "remove 26 models")
    refused = release(s, "--allow-removals", "--format", "json")
    assert refused.exit_code == 1 and rules_of(refused) == {"R041"}
    head, *ranges = messages(refused, "R041")
    assert "would refuse this release (C005) and stay on bundle_version 1" in head
    assert "--allow-shrink" in head
    assert ranges == ["clients c >= 1.0.0 would lose 26 of their 40 models (65%; config "
                      "v1.0.0)"]

    published = release(s, "--allow-removals", "--allow-shrink")
    assert published.exit_code == 0, published.stdout
    assert "allowed shrink: clients c >= 1.0.0 would lose 26 of their 40" in published.stdout
    # The client agrees: it refuses the release by its own guard and keeps the 40 models.
    result = client.load()
    assert [r.rule for r in result.reasons] == ["C005"] and len(result.models) == 40
    # resolve --bundle says what the client does, given the release it has
    shown = cli("resolve", "--bundle", s["out"], "--allowed-signers", allowed,
                "--client-version", "1.2.0", "--previous", first, cwd=tmp_path)
    assert shown.exit_code == 1
    assert "C005 client 1.2.0 would refuse this release: it drops 26 of the 40" in shown.stderr
    assert shown.stdout.startswith("client 1.2.0 -> v1.0.0 (40 models)")
    # Without --previous: the release before, which `release` keeps beside it (1.manifest.json)
    beside = cli("resolve", "--bundle", s["out"], "--allowed-signers", allowed,
                 "--client-version", "1.2.0", cwd=tmp_path)
    assert beside.exit_code == 1 and "C005 client 1.2.0 would refuse" in beside.stderr
    assert beside.stdout.startswith("client 1.2.0 -> v1.0.0 (40 models)")
    # A folder with the latest release alone: what a client new to it gets.
    alone = tmp_path / "alone"
    alone.mkdir()
    latest = json.loads((s["out"] / "manifest.json").read_bytes())
    for name in ("manifest.json", "manifest.json.sig",
                 *(v["archive"] for v in latest["versions"].values())):
        (alone / name).write_bytes((s["out"] / name).read_bytes())
    plain = cli("resolve", "--bundle", alone, "--allowed-signers", allowed,
                "--client-version", "1.2.0", cwd=tmp_path)
    assert plain.exit_code == 0 and plain.stdout.startswith("client 1.2.0 -> v1.0.0 (14 models)")
    relaxed = ConfigClient("1.2.0", "linux", source=BundleSource(str(s["out"])),
                           allowed_signers=allowed, cache_dir=tmp_path / "cache",
                           config=ClientConfig(max_drop_fraction=1.0))
    assert len(relaxed.load().models) == 14


# -- case 4: releases that stay fresh ----------------------------------------------------


def test_case_resign_keeps_a_quiet_repo_fresh(signed_repo: dict[str, Path]) -> None:
    s = signed_repo
    allowed = s["repo"] / "allowed_signers"
    assert release(s, "--expires-days", "3").exit_code == 0
    before = json.loads((s["out"] / "manifest.json").read_bytes())
    state = s["tmp"] / "state.json"
    assert cli("verify", s["out"], "--allowed-signers", allowed, "--state", state,
               cwd=s["tmp"]).exit_code == 0
    warned = cli("verify", s["out"], "--allowed-signers", allowed, "--warn-expiring", "7",
                 "--format", "json", cwd=s["tmp"])
    assert warned.exit_code == 1 and rules_of(warned) == {"R043"}
    assert "expires at" in messages(warned, "R043")[0]

    resigned = release(s, "--resign")
    assert resigned.exit_code == 0, resigned.stdout
    assert "re-signing bundle_version 1" in resigned.stdout
    after = json.loads((s["out"] / "manifest.json").read_bytes())
    assert after["bundle_version"] == 2
    assert (after["versions"], after["index"], after["commit"]) == (
        before["versions"], before["index"], before["commit"])
    assert dt.datetime.fromisoformat(after["expires"]) - dt.datetime.fromisoformat(
        after["created"]) == dt.timedelta(days=30)
    fresh = cli("verify", s["out"], "--allowed-signers", allowed, "--warn-expiring", "7",
                "--state", state, cwd=s["tmp"])
    assert fresh.exit_code == 0, fresh.stdout
    client = ConfigClient("1.0.0", source=BundleSource(str(s["out"])), allowed_signers=allowed,
                          cache_dir=s["tmp"] / "cache")
    loaded = client.load()
    assert loaded.source == "remote" and loaded.origin is not None
    assert loaded.origin.accepted is not None and loaded.origin.accepted.bundle_version == 2


def test_resign_checks_the_content_it_signs_again(signed_repo: dict[str, Path]) -> None:
    # Released while the repo's settings turned V015 off (as content published before a
    # rule existed was): once the rule applies again, --resign does not vouch for it anew.
    s = signed_repo
    models = s["repo"] / "versions/v1.0.0/models/huggingface.json"
    doc = json.loads(models.read_text())
    doc["models"][0]["download"]["sha256"] = hashlib.sha256(b"").hexdigest()
    write_json(models, doc)
    (s["repo"] / ".repo-tools.toml").write_text('disable = ["V015"]\n')
    commit_all(s["repo"], "a placeholder hash, V015 off")
    assert release(s).exit_code == 0
    (s["repo"] / ".repo-tools.toml").unlink()
    commit_all(s["repo"], "V015 on again")
    before = (s["out"] / "manifest.json").read_bytes()
    refused = release(s, "--resign", "--format", "json")
    assert refused.exit_code == 1
    assert rules_of(refused) == {"V015", "R030"}
    assert [f["path"] for f in findings_json(refused) if f["rule"] == "V015"] == [
        "versions/v1.0.0/models/huggingface.json"]
    assert "bundle_version 1, which --resign would sign again" in messages(refused, "R030")[0]
    assert (s["out"] / "manifest.json").read_bytes() == before  # nothing was published


def test_resign_needs_a_trusted_previous_release(signed_repo: dict[str, Path]) -> None:
    s = signed_repo
    nothing = release(s, "--resign", "--format", "json")
    assert nothing.exit_code == 1 and rules_of(nothing) == {"R042"}
    # a release signed by a key the repo no longer trusts is not signed again
    assert release(s, "--allowed-signers", s["tmp"] / "other.allowed", key="other").exit_code \
        == 2  # no such file: a usage error
    (s["tmp"] / "other.allowed").write_text(allowed_line(OTHER_KEY))
    assert release(s, "--allowed-signers", s["tmp"] / "other.allowed",
                   key="other").exit_code == 0
    refused = release(s, "--resign", "--format", "json")
    assert refused.exit_code == 1 and rules_of(refused) == {"R042"}
    assert "R005" in messages(refused, "R042")[0]


# -- case 6: the template's placeholder model ---------------------------------------------


def test_template_placeholders_are_known_placeholders() -> None:
    assert placeholders.placeholder_url(TEMPLATE_DEFAULTS["example_url"]) is not None
    assert placeholders.placeholder_sha256(TEMPLATE_DEFAULTS["example_sha256"]) is not None
    assert hashlib.sha256(b"").hexdigest() == placeholders.EMPTY_FILE_SHA256


def test_case_placeholder_model_fails_lint_and_is_not_released(tmp_path: Path) -> None:
    assert cli("init", tmp_path / "repo").exit_code == 0
    repo = tmp_path / "repo"
    run = cli("lint", "--repo", repo, "--format", "json", cwd=tmp_path)
    assert run.exit_code == 1
    assert [(f["rule"], f["path"], f["message"].split(",")[0]) for f in findings_json(run)] == [
        ("V015", "repo/versions/v1.0.0/models/huggingface.json",
         "url is the template's example URL"),
        ("V015", "repo/versions/v1.0.0/models/huggingface.json",
         "sha256 is the SHA-256 of the empty file")]
    git(repo, "init", "-q")
    commit_all(repo, "new repo")
    key = write_ssh_key(tmp_path / "key", KEY)
    refused = cli("release", "--repo", repo, "--key", key, "--out", tmp_path / "out",
                  "--created", "now", "--format", "json", cwd=tmp_path)
    assert refused.exit_code == 1 and rules_of(refused) == {"V015", "R030"}
    assert not (tmp_path / "out").exists()


# -- case 7: a Hugging Face /blob/ URL ------------------------------------------------------


def test_case_blob_url_is_caught_offline_by_lint_and_by_release(tmp_path: Path) -> None:
    # The page about the file, not the file: a string rule (V011), no network needed.
    blob = "https://huggingface.co/acme/acme-7b-GGUF/blob/main/acme-7b.Q4_K_M.gguf"
    entry = model(provider="huggingface", download={"url": blob, "sha256": "5" * 64,
                                                    "cachePath": "acme/acme-7b.gguf"})
    repo = make_repo(tmp_path / "repo", {"v1.0.0/huggingface": config(entry)},
                     {"versions": {"v1.0.0": {"min_client_version": "1.0.0"}}})
    run = cli("lint", "--repo", repo, "--format", "json", cwd=tmp_path)
    assert run.exit_code == 1
    [found] = findings_json(run)
    assert (found["rule"], found["pointer"]) == ("V011", "/models/0/download/url")
    assert "/resolve/" in found["message"]
    git(repo, "init", "-q")
    commit_all(repo, "a blob URL")
    key = write_ssh_key(tmp_path / "key", KEY)
    refused = cli("release", "--repo", repo, "--key", key, "--out", tmp_path / "out",
                  "--created", "now", "--format", "json", cwd=tmp_path)
    assert refused.exit_code == 1 and rules_of(refused) == {"V011", "R030"}
    assert not (tmp_path / "out").exists()


# -- case 5 (as the template configures it) and the index hints ----------------------------


def test_case_gap_is_an_error_in_the_template_and_names_the_idiom(tmp_path: Path) -> None:
    from tests.test_template import REAL_MODEL, render

    repo = render(tmp_path, **REAL_MODEL)
    (repo / "versions/v3.0.0/models").mkdir(parents=True)
    (repo / "versions/v3.0.0/models/huggingface.json").write_bytes(
        (repo / "versions/v1.0.0/models/huggingface.json").read_bytes())
    write_json(repo / "index.json", {"versions": {
        "v1.0.0": {"min_client_version": "1.0.0", "max_client_version": "2.99.99"},
        "v3.0.0": {"min_client_version": "3.0.0", "max_client_version": None}}})
    run = cli("lint", "--repo", repo, "--format", "json", cwd=tmp_path)
    assert run.exit_code == 1
    [gap] = [f for f in findings_json(run) if f["rule"] == "I007"]
    assert gap["severity"] == "error"
    assert ("set v1.0.0's max_client_version and v3.0.0's min_client_version both to "
            '"3.0.0-0"') in gap["message"]
    hook = cli("check-index", cwd=repo)
    assert hook.exit_code == 1 and "I007 " in hook.stdout
    # the idiom it names closes the gap, and overlaps nothing that I012 would report
    write_json(repo / "index.json", {"versions": {
        "v1.0.0": {"min_client_version": "1.0.0", "max_client_version": "3.0.0-0"},
        "v3.0.0": {"min_client_version": "3.0.0-0", "max_client_version": None}}})
    after = cli("lint", "--repo", repo, cwd=tmp_path)
    assert after.exit_code == 0 and after.stdout.startswith("All checks passed"), after.stdout
    table = cli("resolve", "--repo", repo, "--table", cwd=tmp_path)
    assert "2.99.99" not in table.stdout  # every 2.x is in the v1.0.0 segment
    for client, config_version in (("2.99.99", "v1.0.0"), ("3.0.0-0", "v3.0.0"),
                                   ("3.0.0-rc.1", "v3.0.0"), ("3.0.0", "v3.0.0")):
        run = cli("resolve", "--repo", repo, "--client-version", client, cwd=tmp_path)
        assert run.stdout.startswith(f"client {client} -> {config_version} "), run.stdout


def test_open_ended_range_gets_a_concrete_max(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"v1.0.0/huggingface": config(),
                                         "v2.0.0/huggingface": config()},
                     {"versions": {"v1.0.0": {"min_client_version": "1.0.0"},
                                   "v2.0.0": {"min_client_version": "2.0.0"}}})
    run = cli("check-index", "--format", "json", cwd=repo)
    [found] = [f["message"] for f in findings_json(run) if f["rule"] == "I009"]
    assert found.endswith("To end it, set v1.0.0's max_client_version and v2.0.0's "
                          'min_client_version both to "2.0.0-0": 2.0.0-0 is the lowest '
                          "version of 2.0.0, so v1.0.0 gets every client below 2.0.0 and "
                          "v2.0.0 every 2.0.0 pre-release (an inclusive max such as X.99.99 "
                          "leaves versions out)")


def test_migrate_only_v1_leaves_syntax_errors_to_validate(tmp_path: Path) -> None:
    bad = tmp_path / "versions/v1.0.0/models/bad.json"
    bad.parent.mkdir(parents=True)
    bad.write_text('{"models": [')
    assert cli("migrate", bad, cwd=tmp_path).exit_code == 1
    quiet = cli("migrate", "--only-v1", bad, cwd=tmp_path)
    assert quiet.exit_code == 0 and "J003" not in quiet.stdout
    assert "J003" in cli("validate", bad, cwd=tmp_path).stdout
