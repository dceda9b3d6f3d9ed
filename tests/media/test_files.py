"""temp_path_for, commit_file (never overwrites, race-safe, link fallback), sha256_file, ensure_dir."""

from __future__ import annotations

import errno
import hashlib
import os
import threading
from pathlib import Path
from typing import Any

import pytest
from mvsep_mcp import system
from mvsep_mcp.media import MediaError, commit_file, ensure_dir, final_name_from_temp, sha256_file, temp_path_for
from mvsep_mcp.policy import HASH_CHUNK_BYTES


def make_tmp(final: Path, content: bytes) -> Path:
    tmp = temp_path_for(final)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_bytes(content)
    return tmp


def test_temp_path_is_hidden_beside_final(tmp_path: Path) -> None:
    final = tmp_path / "Song (Vocals).flac"
    tmp = temp_path_for(final)
    assert tmp.parent == tmp_path
    assert tmp.name.startswith(".Song (Vocals).flac.") and tmp.name.endswith(".part")
    assert temp_path_for(final) != tmp
    assert final_name_from_temp(tmp.name) == "Song (Vocals).flac"
    assert final_name_from_temp("Song.flac") is None


def test_temp_path_for_long_name_fits_file_systems(tmp_path: Path) -> None:
    tmp = temp_path_for(tmp_path / ("\u00e9" * 120 + ".flac"))
    assert len(tmp.name.encode("utf-8")) <= 255


def test_commit_never_overwrites(tmp_path: Path) -> None:
    desired = tmp_path / "out" / "Song (Vocals).flac"
    landed = [commit_file(make_tmp(desired, f"take {n}".encode()), desired) for n in range(3)]
    assert [p.name for p in landed] == ["Song (Vocals).flac", "Song (Vocals) (2).flac", "Song (Vocals) (3).flac"]
    assert [p.read_bytes() for p in landed] == [b"take 0", b"take 1", b"take 2"]
    assert sorted(p.name for p in desired.parent.iterdir()) == sorted(p.name for p in landed)  # no temp left


def test_commit_numbers_before_a_double_suffix_when_asked(tmp_path: Path) -> None:
    for expected in ("Song.stem.mp4", "Song (2).stem.mp4", "Song (3).stem.mp4"):
        tmp = tmp_path / "t.part"
        tmp.write_bytes(expected.encode())
        assert commit_file(tmp, tmp_path / "Song.stem.mp4", ".stem.mp4").name == expected
    tmp = tmp_path / "t.part"
    tmp.write_bytes(b"x")
    assert commit_file(tmp, tmp_path / "Song.stem.mp4").name == "Song.stem (2).mp4"  # the default: the last one


def test_commit_creates_parents_and_skips_existing_folder_names(tmp_path: Path) -> None:
    desired = tmp_path / "a" / "b" / "x.mp3"
    desired.parent.mkdir(parents=True)
    (desired.parent / "x.mp3").mkdir()  # a folder in the way counts as taken
    tmp = make_tmp(tmp_path / "x.mp3", b"data")
    assert commit_file(tmp, desired) == desired.parent / "x (2).mp3"


def test_commit_race_to_the_same_name(tmp_path: Path) -> None:
    desired = tmp_path / "Song (Drums).wav"
    temps = [make_tmp(desired, f"writer {n}".encode()) for n in range(8)]
    barrier = threading.Barrier(len(temps))
    results: list[Path] = []
    lock = threading.Lock()

    def commit(tmp: Path) -> None:
        barrier.wait()
        landed = commit_file(tmp, desired)
        with lock:
            results.append(landed)

    threads = [threading.Thread(target=commit, args=(tmp,)) for tmp in temps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == len(temps)
    assert {p.read_bytes() for p in results} == {f"writer {n}".encode() for n in range(8)}
    assert {p.name for p in results} == {"Song (Drums).wav"} | {f"Song (Drums) ({n}).wav" for n in range(2, 9)}


def test_commit_without_hard_links_falls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_links(src: object, dst: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    desired = tmp_path / "Song.flac"
    first = commit_file(make_tmp(desired, b"one"), desired)
    second = commit_file(make_tmp(desired, b"two"), desired)
    assert (first.name, second.name) == ("Song.flac", "Song (2).flac")
    assert (first.read_bytes(), second.read_bytes()) == (b"one", b"two")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Song (2).flac", "Song.flac"]


def test_commit_missing_temp(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="the temporary file is missing; download it again"):
        commit_file(tmp_path / ".gone.part", tmp_path / "x.flac")


def test_sha256_file(tmp_path: Path) -> None:
    data = os.urandom(3 * HASH_CHUNK_BYTES + 17)
    path = tmp_path / "blob"
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()


def test_ensure_dir(tmp_path: Path) -> None:
    assert ensure_dir(tmp_path / "x" / "y").is_dir()
    assert ensure_dir(tmp_path / "x" / "y").is_dir()
    (tmp_path / "file").write_text("x")
    with pytest.raises(MediaError, match="a file with that name is in the way"):
        ensure_dir(tmp_path / "file")
    with pytest.raises(MediaError, match="a file is in the way of one of its parent folders"):
        ensure_dir(tmp_path / "file" / "sub" / "deeper")


@pytest.mark.parametrize("simulated", ["windows", "macos", "linux"])
def test_commit_on_each_system_flushes_what_the_system_can(tmp_path: Path, simulated: system.System,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows cannot open a folder (so its entry is not flushed) and needs write access to flush a file; POSIX
    systems flush the file read-only and then the folder's entry."""
    desired = tmp_path / "out" / "Song (Vocals).flac"
    tmp = make_tmp(desired, b"stem")
    opened: list[tuple[Path, int]] = []
    real_open = os.open

    def spy(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        opened.append((Path(path), flags))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy)
    with system.simulate(simulated):
        landed = commit_file(tmp, desired)
    assert landed == desired and landed.read_bytes() == b"stem"
    folder = [flags for path, flags in opened if path == desired.parent]
    flushed = [flags for path, flags in opened if path == tmp]
    assert flushed and all(flags & os.O_RDWR for flags in flushed) is (simulated == "windows")
    assert (folder == []) is (simulated == "windows")
