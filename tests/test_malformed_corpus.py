"""A corpus of malformed model files: each yields its finding, exit 1, and no traceback.

The expected rule is the file name's prefix (`J003-truncated.json` must report J003).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.helpers import cli, findings_json, run_tool

CORPUS = Path(__file__).parent / "corpus" / "malformed"
FILES = sorted(CORPUS.glob("*.json"))


def test_corpus_is_large_enough() -> None:
    assert len(FILES) >= 40


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_malformed_file_gets_its_finding(path: Path) -> None:
    expected = path.name.split("-", 1)[0]
    run = cli("validate", path, "--format", "json")  # exceptions propagate: no traceback hidden
    assert run.exit_code == 1
    found = findings_json(run)
    assert expected in {f["rule"] for f in found}, found
    assert all(f["path"].endswith(path.name) for f in found)


def test_whole_corpus_in_one_process_without_traceback(tmp_path: Path) -> None:
    directory = tmp_path / "looks-like-a-file.json"
    directory.mkdir()
    run = run_tool("validate", *FILES, directory, "--format", "text")
    assert run.exit_code == 1
    assert "Traceback" not in run.stderr + run.stdout
    reported = {Path(line.split(":", 1)[0]).name for line in run.stdout.splitlines()[:-1]}
    assert reported == {p.name for p in [*FILES, directory]}
    assert "J008" in run.stdout and "is a directory" in run.stdout


def test_a_fifo_named_like_a_model_file_is_a_finding_not_a_hang(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    run = run_tool("validate", fifo, "--format", "json")
    assert run.exit_code == 1
    assert [f["rule"] for f in findings_json(run)] == ["J008"]


def test_a_fifo_beside_the_named_file_does_not_block_the_hook(tmp_path: Path) -> None:
    import os

    models = tmp_path / "versions" / "v1.0.0" / "models"
    models.mkdir(parents=True)
    (models / "a.json").write_bytes(FILES[0].read_bytes())
    os.mkfifo(models / "pipe.json")  # a sibling: read for the cross-file rules
    run = run_tool("validate", "versions/v1.0.0/models/a.json", cwd=tmp_path)  # (timeout 300)
    assert run.exit_code == 1 and "Traceback" not in run.stderr
