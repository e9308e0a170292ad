"""The linter on three real public catalogs: no false alarms, and their real mistakes found."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from tests.support import real_catalogs
from tests.support.helpers import cli, findings_json


def test_lmstudio_catalog_is_clean(tmp_path: Path) -> None:
    models = real_catalogs.lmstudio_models()
    repo = real_catalogs.write_repo(tmp_path, real_catalogs.group_by_provider(models))
    run = cli("validate", "--repo", repo, "--format", "json", "--strict")
    assert len(models) == 29
    assert (run.exit_code, findings_json(run)) == (0, [])


def test_gpt4all_md5_entries_are_the_only_findings(tmp_path: Path) -> None:
    models = real_catalogs.gpt4all_models()
    repo = real_catalogs.write_repo(tmp_path, {"gpt4all": models})
    found = findings_json(cli("validate", "--repo", repo, "--format", "json", "--strict"))
    md5_entries = {f"/models/{i}/download/sha256" for i, m in enumerate(models)
                   if len(m["download"]["sha256"]) == 32}
    assert len(md5_entries) == 28
    assert {f["pointer"] for f in found} == md5_entries
    assert {f["rule"] for f in found} == {"V005"}
    assert all("MD5" in f["message"] for f in found)


def test_localai_gallery_real_mistakes(tmp_path: Path) -> None:
    models = real_catalogs.localai_models()
    repo = real_catalogs.write_repo(tmp_path, {"localai": models})
    found = findings_json(cli("validate", "--repo", repo, "--format", "json", "--strict"))
    counts = Counter(f["rule"] for f in found)
    empty_hashes = sum(1 for m in models if not m["download"]["sha256"])
    assert len(models) == 2461 and empty_hashes == 8
    # Empty hashes, and different files published under one file name (one download
    # would overwrite the other), are the real problems; nothing else is flagged.
    assert counts["V005"] == empty_hashes
    assert set(counts) == {"V005", "V007"}
    assert all("empty" in f["message"] for f in found if f["rule"] == "V005")


def test_vendored_catalogs_are_the_published_bytes() -> None:
    import gzip
    import hashlib
    import re

    notes = (real_catalogs.CATALOGS / "README.md").read_text("utf-8")
    listed = dict((name, digest) for digest, name in
                  re.findall(r"^([0-9a-f]{64})  (\S+)$", notes, re.MULTILINE))
    assert set(listed) == {"gpt4all_models3.json", "lmstudio_catalog.json",
                           "localai_gallery_index.yaml"}
    for name, digest in listed.items():
        path = real_catalogs.CATALOGS / name
        data = path.read_bytes() if path.exists() else gzip.decompress(
            path.with_name(name + ".gz").read_bytes())
        assert hashlib.sha256(data).hexdigest() == digest, name
