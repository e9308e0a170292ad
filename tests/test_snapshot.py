"""RepoSnapshot: the same repo read from a work tree, a git revision and bytes agrees."""

from __future__ import annotations

from pathlib import Path

import pytest

from repo_tools import compat
from repo_tools.snapshot import SnapshotUnavailable, from_checkout, from_git
from tests.support.helpers import config, git, make_repo, model

INDEX = {"versions": {"v1.0.0": {"min_client_version": "1.0.0", "max_client_version": None}}}


def test_a_git_revision_reads_as_its_checkout_did(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"v1.0.0/huggingface": config(model(ranking=1))},
                     INDEX)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "first")
    # Read now: a snapshot reads a config version's files when first asked for them.
    first = [(m.provider, m.ranking) for m in from_checkout(repo, repo).models_of("v1.0.0")]
    make_repo(repo, {"v1.0.0/huggingface": config(model(ranking=7)),
                     "v1.0.0/acme": config(model(provider="acme"))})
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "second")
    (repo / "versions/v1.0.0/models/acme.json").write_text("not committed")

    old, new = from_git(repo, "HEAD~1"), from_git(repo, "HEAD")
    assert [e.config_version for e in old.entries or []] == ["v1.0.0"]
    assert [(m.provider, m.ranking) for m in old.models_of("v1.0.0")] == first == [
        ("huggingface", 1)]
    assert sorted((m.provider, m.ranking) for m in new.models_of("v1.0.0")) == [
        ("acme", 10), ("huggingface", 7)]  # the commit, not the edited work tree
    assert compat.resolve(new.entries or [], new.models_of, "1.0.0").config_version == "v1.0.0"
    assert new.models_of("v9.9.9") == [] and not new.problems
    for bad in ("no-such-revision", "--output=/tmp/x"):
        with pytest.raises(SnapshotUnavailable):
            from_git(repo, bad)
