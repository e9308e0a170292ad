"""The archive writer: its bytes equal tarfile's USTAR output, and the strict reader reads
them back; names USTAR cannot hold are refused with R033."""

from __future__ import annotations

import io
import tarfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from repo_tools.release.archive import ReleaseFile, build_archive, read_members
from repo_tools.release.errors import ReleaseRefused


def tarfile_archive(files: list[ReleaseFile]) -> bytes:
    """What the standard library writes for the same members (the reference)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT,
                      encoding="utf-8") as tar:
        for f in files:
            info = tarfile.TarInfo(f.path)
            info.size = len(f.data)
            info.mtime = 0
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(f.data))
    return buffer.getvalue()


_part = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x2FF,
                              exclude_characters="/\\:"), min_size=1, max_size=60)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(_part, st.binary(max_size=1500), min_size=1, max_size=6),
       st.sampled_from(["v1.0.0", "v" + "9" * 90]))
def test_writer_matches_tarfile_and_reads_back(named: dict[str, bytes], version: str) -> None:
    files = sorted((ReleaseFile(f"versions/{version}/models/{name}.json", data)
                    for name, data in named.items()), key=lambda f: f.path.encode())
    try:
        expected = tarfile_archive(files)
    except ValueError:  # a name USTAR cannot hold: ours refuses it as well
        with pytest.raises(ReleaseRefused) as refused:
            build_archive(files)
        assert refused.value.code == "R033"
        return
    archive = build_archive(files)
    assert archive == expected
    assert len(archive) % (20 * 512) == 0
    members = read_members(archive, max_members=100)
    assert [(m.name, m.data) for m in members] == [(f.path, f.data) for f in files]


def test_a_name_too_long_for_ustar_is_refused() -> None:
    long_leaf = ReleaseFile("versions/v1/models/" + "x" * 101 + ".json", b"{}")
    with pytest.raises(ReleaseRefused) as refused:
        build_archive([long_leaf])
    assert refused.value.code == "R033"
