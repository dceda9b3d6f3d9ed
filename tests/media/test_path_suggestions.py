"""A partly typed path completed from its folder: as typed plus the rest of the name, folders then audio files."""

from __future__ import annotations

from pathlib import Path

import pytest
from mvsep_mcp.media.path_suggestions import suggest_path_list, suggest_paths


@pytest.fixture
def music(tmp_path: Path) -> Path:
    folder = tmp_path / "music"
    (folder / "Album").mkdir(parents=True)
    (folder / "alternate").mkdir()
    (folder / ".hidden").mkdir()
    for name in ("All Along.flac", "Also.txt", "Beat.wav", ".secret.flac"):
        (folder / name).write_bytes(b"x")
    return folder


def test_a_partial_name(music: Path) -> None:
    assert suggest_paths(f"{music}/al") == [f"{music}/Album/", f"{music}/alternate/", f"{music}/All Along.flac"]
    assert suggest_paths(f"{music}/") == [f"{music}/Album/", f"{music}/alternate/", f"{music}/All Along.flac",
                                          f"{music}/Beat.wav"]
    assert suggest_paths(f"{music}/.") == [f"{music}/.hidden/", f"{music}/.secret.flac"]


def test_home_is_kept_as_typed(music: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(music.parent))
    assert suggest_paths("~/mu") == ["~/music/"]
    assert suggest_paths("~/music/B") == ["~/music/Beat.wav"]


def test_only_absolute_paths_and_nothing_for_a_missing_folder(music: Path) -> None:
    assert suggest_paths("music/al") == []
    assert suggest_paths("") == []
    assert suggest_paths(f"{music}/nowhere/x") == []
    assert suggest_paths(f"{music}/All Along.flac/x") == []


def test_the_last_of_comma_separated_paths(music: Path) -> None:
    assert suggest_path_list(f"/a.flac, {music}/Be") == [f"/a.flac, {music}/Beat.wav"]
    assert suggest_path_list(f"{music}/Be") == [f"{music}/Beat.wav"]
