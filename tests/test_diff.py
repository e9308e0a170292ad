"""`repo-tools diff` against a brute-force oracle: `repo-tools resolve` for every client
version of a grid, on checkouts of both revisions, compared answer by answer.

Every index range and model range in these repos starts at a bound and ends right before
the bound's successor, so the grid (every bound, every successor, the lowest version and
a very high one) meets every stretch on which any answer is constant: checking the grid
checks every client version.
"""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.helpers import cli, git, write_json
from tests.support.release_helpers import commit_all
from tests.test_compat import by_precedence, next_version

BOUNDS = ["1.0.0", "1.5.0", "2.0.0-rc.1", "2.0.0", "3.0.0"]
GRID = sorted({*BOUNDS, *map(next_version, BOUNDS), "0.0.0-0", "0.0.0", "99.0.0"},
              key=by_precedence)
CONFIG_VERSIONS = ["v1.0.0", "v2.0.0", "v3.0.0"]
FIELD_PATHS = {"url": ("download", "url"), "sha256": ("download", "sha256"),
               "size": ("download", "size"), "cachePath": ("download", "cachePath")}

Spec = dict[str, Any]  # {"index": {...}, "models": {config version: [entries]}}


def entry(name: str, *, url: int = 0, sha: int = 0, ranking: int = 0,
          low: str | None = None, high: str | None = None,
          platforms: list[str] | None = None) -> dict[str, Any]:
    model: dict[str, Any] = {
        "model": name, "provider": "acme", "version": "1.0.0", "ranking": ranking,
        "download": {"url": f"https://example.org/{name}-{url}.bin",
                     "sha256": f"{sha + 1:x}" * 64, "cachePath": f"acme/{name}.bin"}}
    compat: dict[str, Any] = {}
    if low is not None:
        compat["min_client_version"] = low
    if high is not None:
        compat["max_client_version"] = high
    if platforms is not None:
        compat["supported_platforms"] = platforms
    if compat:
        model["compatibility"] = compat
    return model


def write_spec(repo: Path, spec: Spec) -> None:
    for old in (repo / "versions").glob("*/models/*.json"):
        old.unlink()
    write_json(repo / "index.json", {"versions": spec["index"]})
    for config_version, models in spec["models"].items():
        write_json(repo / "versions" / config_version / "models" / "acme.json",
                   {"schema_version": "2.0", "models": models})


def checkout(repo: Path, revision: str, into: Path) -> Path:
    archive = subprocess.run(["git", "-C", str(repo), "archive", revision], check=True,
                             capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def oracle(repo: Path, client: str) -> tuple[str | None, dict[tuple[str, str, str], Any]]:
    run = cli("resolve", "--repo", repo, "--client-version", client, "--format", "json")
    answer = json.loads(run.stdout)
    models = {}
    for model in answer["models"]:
        models.setdefault((model["provider"], model["model"], model["version"]), model)
    return answer["config_version"], models


def field_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    def at(model: dict[str, Any], path: tuple[str, str]) -> Any:
        return model.get(path[0], {}).get(path[1])

    found = [name for name, path in FIELD_PATHS.items() if at(old, path) != at(new, path)]
    if old.get("ranking", 0) != new.get("ranking", 0):
        found.append("ranking")
    if old.get("compatibility") != new.get("compatibility"):
        found.append("compatibility")
    rest = {"download", "ranking", "compatibility"}
    if {k: v for k, v in old.items() if k not in rest} != {
            k: v for k, v in new.items() if k not in rest}:
        found.append("other")
    return found


def expected_change(before: Path, after: Path, client: str) -> dict[str, Any] | None:
    config_before, old = oracle(before, client)
    config_after, new = oracle(after, client)

    def shown(identity: tuple[str, str, str]) -> dict[str, str]:
        return dict(zip(("provider", "model", "version"), identity, strict=True))

    change = {
        "config_before": config_before, "config_after": config_after,
        "added": [shown(i) for i in sorted(new.keys() - old.keys())],
        "removed": [shown(i) for i in sorted(old.keys() - new.keys())],
        "changed": [{**shown(i), "fields": fields} for i in sorted(old.keys() & new.keys())
                    if (fields := field_changes(old[i], new[i]))],
    }
    if config_before == config_after and not (change["added"] or change["removed"]
                                              or change["changed"]):
        return None
    return change


def contains(clients: dict[str, Any], version: str) -> bool:
    low = clients["min"] or "0.0.0-0"
    if by_precedence(version) < by_precedence(low):
        return False
    if "max_below" in clients:
        return by_precedence(version) < by_precedence(clients["max_below"])
    return clients["max"] is None or by_precedence(version) <= by_precedence(clients["max"])


def check_against_oracle(base: Spec, head: Spec) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        repo = root / "repo"
        repo.mkdir()
        git(repo, "init", "-q")
        write_spec(repo, base)
        commit_all(repo, "base")
        write_spec(repo, head)
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "--allow-empty", "-m", "head")
        run = cli("diff", "HEAD~1", "HEAD", "--repo", repo, "--format", "json")
        assert run.exit_code == 0, run.stdout + run.stderr
        diff = json.loads(run.stdout)
        before = checkout(repo, "HEAD~1", root / "before")
        after = checkout(repo, "HEAD", root / "after")
        for client in GRID:
            expected = expected_change(before, after, client)
            holding = [s for s in diff["segments"] if contains(s["clients"], client)]
            if expected is None:
                assert holding == [], client
                continue
            assert len(holding) == 1, client
            got = {k: v for k, v in holding[0].items() if k != "clients"}
            assert got == expected, client
        # Segments are disjoint and in client order.
        lows = [s["clients"]["min"] or "0.0.0-0" for s in diff["segments"]]
        assert lows == sorted(lows, key=by_precedence)
        # The work tree (HEAD's files) as HEAD gives the same answer.
        worktree = cli("diff", "HEAD~1", "--repo", repo, "--format", "json")
        assert json.loads(worktree.stdout) == diff
        return diff


def test_crafted_revisions() -> None:
    base = {"index": {"v1.0.0": {"min_client_version": "1.0.0", "max_client_version": "1.5.0"},
                      "v2.0.0": {"min_client_version": "2.0.0", "max_client_version": None}},
            "models": {"v1.0.0": [entry("tiny"), entry("big", low="1.5.0")],
                       "v2.0.0": [entry("tiny"), entry("next", platforms=["linux"])]}}
    head = {"index": {"v1.0.0": {"min_client_version": "1.0.0",
                                 "max_client_version": "2.0.0-rc.1"},
                      "v2.0.0": {"min_client_version": "2.0.0", "max_client_version": None},
                      "v3.0.0": {"min_client_version": "3.0.0", "max_client_version": None}},
            "models": {"v1.0.0": [entry("tiny"), entry("big", low="1.5.0", sha=3)],
                       "v2.0.0": [entry("tiny", url=1, ranking=5),
                                  entry("next", platforms=["linux", "macos"])],
                       "v3.0.0": [entry("tiny")]}}
    diff = check_against_oracle(base, head)
    assert [(s["clients"]["text"], s["config_before"], s["config_after"])
            for s in diff["segments"]] == [
        ("1.5.0 <= c <= 1.5.0", "v1.0.0", "v1.0.0"),
        ("1.5.0 < c <= 2.0.0-rc.1", None, "v1.0.0"),
        ("2.0.0 <= c < 3.0.0", "v2.0.0", "v2.0.0"),
        ("c >= 3.0.0", "v2.0.0", "v3.0.0")]
    assert diff["segments"][2]["changed"] == [
        {"provider": "acme", "model": "next", "version": "1.0.0", "fields": ["compatibility"]},
        {"provider": "acme", "model": "tiny", "version": "1.0.0", "fields": ["url", "ranking"]}]
    assert diff["index"] == [
        {"config_version": "v1.0.0", "before": "1.0.0 <= c <= 1.5.0",
         "after": "1.0.0 <= c <= 2.0.0-rc.1"},
        {"config_version": "v3.0.0", "before": None, "after": "c >= 3.0.0"}]


def test_no_change_is_one_line(tmp_path: Path) -> None:
    spec = {"index": {"v1.0.0": {"min_client_version": "1.0.0"}},
            "models": {"v1.0.0": [entry("tiny")]}}
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    write_spec(repo, spec)
    commit_all(repo, "one")
    (repo / "README.md").write_text("notes\n")
    commit_all(repo, "docs only")
    for fmt in ("text", "markdown"):
        run = cli("diff", "HEAD~1", "--repo", repo, "--format", fmt)
        assert run.exit_code == 0
        assert run.stdout.strip().splitlines()[-1] == (
            "No client sees any change: every client version gets the same config version "
            "and the same models.")


def test_bad_revision_is_an_io_error(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    run = cli("diff", "no-such-rev", "--repo", repo)
    assert run.exit_code == 2 and "no-such-rev" in run.stderr


_bounds = st.sampled_from([None, *BOUNDS])
_models = st.lists(st.builds(
    entry, st.sampled_from(["a", "b", "c"]), url=st.integers(0, 1), sha=st.integers(0, 1),
    ranking=st.integers(0, 1), low=_bounds, high=_bounds,
    platforms=st.sampled_from([None, ["linux"], ["linux", "macos"]])),
    max_size=3, unique_by=lambda m: m["model"])


@st.composite
def specs(draw: st.DrawFn) -> Spec:
    versions = draw(st.lists(st.sampled_from(CONFIG_VERSIONS), min_size=1, unique=True))
    index = {}
    for version in versions:
        low = draw(st.sampled_from(BOUNDS))
        high = draw(_bounds)
        index[version] = {"min_client_version": low, "max_client_version": high}
    return {"index": index, "models": {v: draw(_models) for v in versions}}


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(specs(), specs())
def test_diff_matches_resolve_for_every_client(base: Spec, head: Spec) -> None:
    check_against_oracle(base, head)


def test_two_releases_over_http(lab: Any) -> None:
    from tests.support.client_helpers import entry as client_entry
    from tests.support.client_helpers import fake_sha

    lab.standard_repo()
    first = lab.serve(lab.release().files, "/one/")
    lab.write_repo({"v1.0.0": [client_entry("tiny", lab.model_url, fake_sha("tiny2"))]},
                   {"versions": {"v1.0.0": {"min_client_version": "1.0.0"}}})
    second = lab.serve(lab.release().files, "/two/")
    run = cli("diff", first, second, "--allowed-signers", lab.allowed, "--format", "json")
    assert run.exit_code == 0, run.stderr
    diff = json.loads(run.stdout)
    assert [s["clients"]["text"] for s in diff["segments"]] == [
        "1.0.0 <= c <= 1.4.0", "1.4.0 < c < 1.5.0", "1.5.0 <= c < 2.0.0", "c >= 2.0.0"]
    assert diff["segments"][1]["config_before"] is None  # these clients start getting one
    unsigned = cli("diff", first, second)
    assert unsigned.exit_code == 2 and "--allowed-signers" in unsigned.stderr


def files_of(spec: Spec) -> dict[str, bytes]:
    files = {"index.json": json.dumps({"versions": spec["index"]}).encode()}
    for config_version, models in spec["models"].items():
        files[f"versions/{config_version}/models/acme.json"] = json.dumps(
            {"schema_version": "2.0", "models": models}).encode()
    return files


@settings(max_examples=60, deadline=None)
@given(specs(), specs())
def test_release_predicts_exactly_the_clients_shrink_guard(base: Spec, head: Spec) -> None:
    # The oracle: the client's own guard on compat.resolve, client version by version.
    from repo_tools import compat, outlook
    from repo_tools.client.merge import shrink
    from repo_tools.snapshot import from_files

    old, new = from_files(files_of(base)), from_files(files_of(head))
    found = outlook.shrinks(old, new)
    for client in GRID:
        before_cv = compat.select_config_version(old.entries or [], client)
        after_cv = compat.select_config_version(new.entries or [], client)
        named = set(outlook.platforms_of(old.models_of(before_cv) if before_cv else [],
                                         new.models_of(after_cv) if after_cv else []))
        for platform in (None, "linux", "macos", "windows"):
            shown = platform if platform is None or platform in named \
                else outlook.OTHER_PLATFORMS
            before = compat.resolve(old.entries or [], old.models_of, client, platform)
            after = compat.resolve(new.entries or [], new.models_of, client, platform)
            refused = after.config_version is not None and shrink(
                before.models, after.models, outlook.DEFAULT_MAX_DROP_FRACTION) is not None
            listed = [s for s in found if s.clients.contains(client)
                      and s.platform in (shown, None)]
            if platform is None:
                assert refused == bool(listed), client
            elif any(s.platform == shown for s in listed):
                assert refused, (client, platform)
            elif not listed:
                assert not refused, (client, platform)
