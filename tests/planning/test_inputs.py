"""Inputs of a request: files, folders, URLs and ``~`` expanded in order without duplicates; files probed and hashed."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import pytest
from mvsep_mcp.media.errors import UnsupportedAudio
from mvsep_mcp.planning import PlanError, absolute_path, describe_file, expand_inputs, is_url, readable_file
from mvsep_mcp.planning import inputs as inputs_module
from mvsep_mcp.planning.inputs import NO_INPUTS, describe_sources

from tests.audio_factory import make_audio
from tests.programs import posix_only


def touch(path: Path) -> Path:
    """An empty file: expansion only looks at names, never at contents."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


@pytest.fixture
def music(tmp_path: Path) -> Path:
    """A folder with audio at the top, audio in a sub-folder, a hidden file and files that are not audio."""
    root = tmp_path / "Music"
    for name in ("b.mp3", "a.flac", "C.WAV", ".hidden.flac", "notes.txt", "cover.jpg", "sub/d.ogg", "sub/.e.mp3"):
        touch(root / name)
    return root


def test_is_url() -> None:
    assert is_url("https://example.com/a.mp3") and is_url("  http://example.com/a  ")
    assert not is_url("/music/a.mp3") and not is_url("ftp://example.com/a.mp3") and not is_url("example.com/a.mp3")


def test_a_file_is_taken_as_is(music: Path) -> None:
    assert expand_inputs([str(music / "a.flac")]) == [("file", str(music / "a.flac"))]


def test_a_file_given_directly_is_not_filtered_by_its_suffix(music: Path) -> None:
    # only folder listings pick by suffix; a file named explicitly is probed later (and refused there if not audio)
    assert expand_inputs([str(music / "notes.txt")]) == [("file", str(music / "notes.txt"))]


def test_folder_lists_its_audio_files_sorted_skipping_hidden_and_other_files(music: Path) -> None:
    assert expand_inputs([str(music)]) == [("file", str(music / name)) for name in ("C.WAV", "a.flac", "b.mp3")]


def test_recursive_folder_includes_sub_folders_but_not_hidden_files(music: Path) -> None:
    found = [source for _, source in expand_inputs([str(music)], recursive=True)]
    assert found == [str(music / n) for n in ("C.WAV", "a.flac", "b.mp3", "sub/d.ogg")]


def test_urls_are_kept_stripped_and_in_order(music: Path) -> None:
    assert expand_inputs(["  https://example.com/x.mp3 ", str(music / "a.flac"), "http://example.com/y"]) == [
        ("url", "https://example.com/x.mp3"),
        ("file", str(music / "a.flac")),
        ("url", "http://example.com/y"),
    ]


def test_home_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    song = touch(tmp_path / "Music" / "song.flac")
    assert expand_inputs(["~/Music/song.flac"]) == [("file", str(song))]
    assert absolute_path("~/Music") == tmp_path / "Music"


def test_duplicates_are_dropped_keeping_the_first_position(music: Path) -> None:
    url = "https://example.com/x.mp3"
    found = expand_inputs([str(music / "b.mp3"), str(music), url, f" {url} ", str(music / "a.flac")])
    assert found == [("file", str(music / "b.mp3")), ("file", str(music / "C.WAV")), ("file", str(music / "a.flac")),
                     ("url", url)]


def test_blank_items_are_ignored_and_nothing_at_all_is_refused(music: Path) -> None:
    assert expand_inputs(["", "  ", str(music / "a.flac")]) == [("file", str(music / "a.flac"))]
    with pytest.raises(PlanError) as caught:
        expand_inputs(["", " "])
    assert caught.value.user_text() == NO_INPUTS == (
        "Give at least one input: an absolute file or folder path, or an http(s) URL."
    )


@pytest.mark.parametrize(("given", "example"), [("song.flac", "song.flac"), ("Music/My Song.mp3", "My Song.mp3"),
                                                ("./", "song.flac")])
def test_relative_paths_are_refused_with_an_example(given: str, example: str) -> None:
    with pytest.raises(PlanError) as caught:
        expand_inputs([given])
    assert str(caught.value) == (
        f"The input {given!r} is not an absolute path: give the full path, e.g. /Users/me/Music/{example} or "
        f"~/Music/{example}."
    )


def test_relative_output_folder_names_what_it_is() -> None:
    with pytest.raises(PlanError, match=r"^The output folder 'stems' is not an absolute path"):
        absolute_path("stems", "output folder")


def test_missing_file_suggests_near_names(music: Path) -> None:
    with pytest.raises(PlanError) as caught:
        expand_inputs([str(music / "a.flc")])
    assert str(caught.value) == f"No file 'a.flc' in {music}. Did you mean: a.flac?"


def test_missing_file_without_near_names(music: Path) -> None:
    with pytest.raises(PlanError) as caught:
        expand_inputs([str(music / "zzzzzzzz.opus")])
    assert str(caught.value) == f"No file 'zzzzzzzz.opus' in {music}."


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(PlanError) as caught:
        expand_inputs([str(tmp_path / "nowhere" / "a.flac")])
    assert str(caught.value) == f"No folder {tmp_path / 'nowhere'}: check the path and call again."


def test_a_missing_input_refuses_the_whole_call(music: Path) -> None:
    with pytest.raises(PlanError, match="No file 'gone.flac'"):
        expand_inputs([str(music / "a.flac"), str(music / "gone.flac")])


def test_folder_without_audio(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    touch(empty / "readme.txt")
    touch(empty / "deeper" / "x.flac")
    with pytest.raises(PlanError) as caught:
        expand_inputs([str(empty)])
    assert str(caught.value) == f"No audio files in the folder {empty} (set recursive=true to look in sub-folders)."
    (empty / "deeper" / "x.flac").unlink()
    with pytest.raises(PlanError) as caught:
        expand_inputs([str(empty)], recursive=True)
    assert str(caught.value) == f"No audio files in the folder {empty}."


def test_too_many_inputs(music: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inputs_module, "MAX_INPUTS", 2)
    assert len(expand_inputs([str(music / "a.flac"), str(music / "b.mp3")])) == 2
    with pytest.raises(PlanError) as caught:
        expand_inputs([str(music)])
    assert str(caught.value) == "3 inputs is more than 2 in one call: split the batch."


def test_describe_file_probes_hashes_and_reads_tags(tmp_path: Path) -> None:
    song = make_audio(tmp_path, "flac", name="My Song", seconds=1.0, sample_rate=8000)
    planned = describe_file(song)
    assert (planned.kind, planned.source, planned.format) == ("file", str(song), "flac")
    assert planned.duration_s == pytest.approx(1.0, abs=0.01)
    assert planned.size_bytes == song.stat().st_size
    assert planned.sha256 == hashlib.sha256(song.read_bytes()).hexdigest()
    assert planned.tags["title"] == "Test Song" and planned.tags["artist"] == "Test Artist"
    assert planned.tags["cover"].startswith("image/png, ")
    assert planned.estimate is None and planned.reference is None


def test_describe_untagged_file(tmp_path: Path) -> None:
    planned = describe_file(make_audio(tmp_path, "wav", seconds=0.5, sample_rate=8000, tagged=False))
    assert planned.tags == {} and planned.format == "wav"


def test_describe_file_that_is_not_audio(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not audio at all\n" * 20)
    with pytest.raises(UnsupportedAudio) as caught:
        describe_file(notes)
    assert str(caught.value).startswith("notes.txt is not an audio file this server can read; use one of mp3, flac")


def test_describe_file_that_vanished(music: Path) -> None:
    with pytest.raises(PlanError) as caught:
        describe_file(music / "a.fla")
    assert str(caught.value) == f"No file 'a.fla' in {music}. Did you mean: a.flac?"


async def test_describe_sources_probes_files_and_keeps_urls(tmp_path: Path) -> None:
    song = make_audio(tmp_path, "mp3", seconds=0.5, sample_rate=8000)
    planned = await describe_sources([("url", "https://example.com/x.mp3"), ("file", str(song))])
    assert [(p.kind, p.source) for p in planned] == [("url", "https://example.com/x.mp3"), ("file", str(song))]
    assert planned[0].duration_s is None and planned[0].sha256 is None
    assert planned[1].duration_s is not None and planned[1].format == "mp3"


@posix_only("a named pipe (os.mkfifo) is one of the cases")
def test_readable_file_takes_a_regular_file_and_refuses_the_rest(tmp_path: Path) -> None:
    """For files sent as they are (a quality-checker zip): each odd path gets its own sentence, never an OSError."""
    archive = tmp_path / "outputs.zip"
    archive.write_bytes(b"PK\x05\x06" + bytes(18))
    assert readable_file(str(archive), "zip") == archive
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    cases = {
        "relative.zip": "is not an absolute path",
        str(tmp_path): "is a folder: give the path of one file",
        str(fifo): "is a named pipe (FIFO)",
        "/" + "x" * 5000: "is too long for this system",
        str(archive / "inside.zip"): "runs through a file as if it were a folder",
        str(tmp_path / "a\x00b.zip"): "contains a NUL character",
        str(tmp_path / "missing.zip"): "No file 'missing.zip'",
    }
    for given, sentence in cases.items():
        with pytest.raises(PlanError, match=re.escape(sentence)):
            readable_file(given, "zip")
