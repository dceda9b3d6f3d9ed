"""Provenance written in place: room made before the audio by inserting file-system blocks, else a rewrite."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from mutagen.wave import WAVE
from mvsep_mcp import system
from mvsep_mcp.daw import riff_insert
from mvsep_mcp.daw.bwf import Provenance, write_provenance
from mvsep_mcp.daw.riff import Part, read_layout

from tests.daw.conftest import write_pcm
from tests.daw.test_bwf import PROVENANCE, WHEN, _check, _id3_tag


def _audio_bytes(path: Path) -> bytes:
    data = read_layout(path).data
    with path.open("rb") as handle:
        handle.seek(data.offset)
        return handle.read(data.size)


def _inserts_here(tmp_path: Path) -> bool:
    """Whether this file system takes FALLOC_FL_INSERT_RANGE (ext4, XFS do; tmpfs does not)."""
    probe = tmp_path / "probe.bin"
    probe.write_bytes(b"x" * 65536)
    with probe.open("r+b") as handle:
        block = riff_insert._block_size(handle.fileno())
        return block is not None and riff_insert._insert_blocks(handle.fileno(), block)


@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24", "FLOAT"])
def test_in_place_gives_the_same_stem_as_a_rewrite(tmp_path: Path, subtype: str) -> None:
    edited, rewritten = tmp_path / "edited.wav", tmp_path / "rewritten.wav"
    write_pcm(edited, 44100, subtype=subtype)
    rewritten.write_bytes(edited.read_bytes())
    for path in (edited, rewritten):
        _id3_tag(path)
    audio = _audio_bytes(edited)
    write_provenance(edited, PROVENANCE, in_place=True)
    write_provenance(rewritten, PROVENANCE)
    for path in (edited, rewritten):
        _check(path, 44100)
        assert _audio_bytes(path) == audio
        tags = WAVE(path).tags
        assert tags is not None and str(tags["TXXX:MVSEP_MODEL"]) == PROVENANCE.model
        ids = [c.id for c in read_layout(path).chunks]
        assert ids.index(b"bext") < ids.index(b"data") and ids.index(b"iXML") < ids.index(b"data")
    assert np.array_equal(sf.read(str(edited), dtype="int32")[0], sf.read(str(rewritten), dtype="int32")[0])


def test_in_place_moves_no_audio_when_the_system_inserts_blocks(tmp_path: Path) -> None:
    if not _inserts_here(tmp_path):
        pytest.skip("this file system cannot insert blocks: the rewrite is used (covered above)")
    path = tmp_path / "stem.wav"
    write_pcm(path, 44100)
    data_before = read_layout(path).data
    digest = hashlib.sha256()
    rewritten = write_provenance(path, PROVENANCE, digest=digest, in_place=True)
    assert rewritten is False and digest.digest() == hashlib.sha256().digest()  # nothing hashed: the caller does
    layout = read_layout(path)
    assert (layout.data.offset - data_before.offset) % 512 == 0  # shifted by whole blocks, not copied
    assert [c.id for c in layout.chunks] == [b"fmt ", b"bext", b"iXML", b"JUNK", b"data"]
    _check(path, 44100)


def test_in_place_twice_reuses_the_room(tmp_path: Path) -> None:
    path = tmp_path / "stem.wav"
    write_pcm(path, 1000)
    write_provenance(path, Provenance(song="Old", stem="Bass", model="m", created=WHEN), in_place=True)
    size = path.stat().st_size
    write_provenance(path, PROVENANCE, in_place=True)
    ids = [c.id for c in read_layout(path).chunks]
    assert ids.count(b"bext") == 1 and ids.count(b"iXML") == 1 and ids.count(b"JUNK") <= 1
    assert path.stat().st_size == size
    _check(path, 1000)


@pytest.mark.parametrize("system", ["no fallocate", "windows"])
def test_without_block_insertion_the_file_is_rewritten(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       system: str) -> None:
    monkeypatch.setattr(riff_insert, "glibc", lambda: None)  # another OS: no fallocate
    if system == "windows":
        monkeypatch.delattr(os, "fstatvfs", raising=False)  # Windows has no fstatvfs either
    path = tmp_path / "stem.wav"
    write_pcm(path, 1000)
    digest = hashlib.sha256()
    assert write_provenance(path, PROVENANCE, digest=digest, in_place=True) is True
    assert digest.hexdigest() == hashlib.sha256(path.read_bytes()).hexdigest()
    _check(path, 1000)


def test_a_chunk_to_replace_after_the_audio_is_left_to_the_rewrite(tmp_path: Path) -> None:
    path = tmp_path / "stem.wav"
    write_pcm(path, 100)
    with path.open("ab") as handle:  # a bext chunk after the audio (and the RIFF size left short: read as is)
        handle.write(b"bext" + (4).to_bytes(4, "little") + b"old!")
    layout = read_layout(path)
    assert not riff_insert.insert_before_data(path, layout, [Part(b"bext", data=b"new!")], replace=(b"bext",))
    assert read_layout(path) == layout


@pytest.mark.parametrize("simulated", ["macos", "windows"])
def test_off_glibc_linux_nothing_is_inserted_and_the_rewrite_gives_the_same_stem(tmp_path: Path,
                                                                                 simulated: system.System) -> None:
    """macOS and Windows have no block insertion (no glibc ``fallocate``): the file is left as it was and the
    provenance is written by the rewrite, with the same result."""
    path, reference = tmp_path / "stem.wav", tmp_path / "reference.wav"
    write_pcm(path, 44100)
    reference.write_bytes(path.read_bytes())
    before = path.read_bytes()
    write_provenance(reference, PROVENANCE)
    with system.simulate(simulated):
        grown = [Part(b"bext", b"x" * 5000)]  # more than the head has room for: blocks would be needed
        assert riff_insert.insert_before_data(path, read_layout(path), grown) is False
        assert path.read_bytes() == before
        write_provenance(path, PROVENANCE, in_place=True)
    assert path.read_bytes() == reference.read_bytes()
    _check(path, 44100)


def test_without_fstatvfs_the_block_size_is_unknown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows' ``os`` has no ``fstatvfs``: no block size, so no insertion."""
    monkeypatch.delattr(os, "fstatvfs", raising=False)
    with (tmp_path / "f").open("wb") as handle:
        assert riff_insert._block_size(handle.fileno()) is None
