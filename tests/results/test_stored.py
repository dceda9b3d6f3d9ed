"""A job's saved files as served: found by stem, refused when gone, changed or too big, with a sentence."""

from __future__ import annotations

from pathlib import Path

import pytest
from mvsep_mcp.jobs.models import JobRecord, JobState, OutputFile
from mvsep_mcp.results.stored import (
    StoredFileError,
    StoredFileMissing,
    audio_mime,
    find_output,
    read_manifest,
    read_output,
)

from tests.jobs.helpers import input_file, make_spec


def completed(tmp_path: Path, data: bytes = b"x" * 100) -> JobRecord:
    stem = tmp_path / "Song (Vocals).flac"
    stem.write_bytes(data)
    output = OutputFile(stem="Vocals", path=str(stem), size=len(data), sha256="0" * 64, url="http://x/y", format="flac")
    return JobRecord(id="j1", spec=make_spec(tmp_path, input_file(tmp_path)), state=JobState.COMPLETED,
                     created_at=1.0, updated_at=2.0, outputs=[output])


def test_found_by_stem_in_any_case(tmp_path: Path) -> None:
    record = completed(tmp_path)
    assert find_output(record, " vocals ").stem == "Vocals"
    assert audio_mime(record.outputs[0]) == "audio/flac"
    assert read_output(record, "Vocals") == b"x" * 100


def test_an_unknown_stem_names_the_ones_there_are(tmp_path: Path) -> None:
    with pytest.raises(StoredFileMissing, match="no 'Drums' stem; its stems are Vocals"):
        read_output(completed(tmp_path), "Drums")


def test_a_changed_file_is_not_served(tmp_path: Path) -> None:
    record = completed(tmp_path)
    Path(record.outputs[0].path).write_bytes(b"y" * 50)
    with pytest.raises(StoredFileError, match="changed after it was saved") as changed:
        read_output(record, "Vocals")
    assert not isinstance(changed.value, StoredFileMissing)  # there, but not the file that was saved


def test_a_gone_file_says_how_to_get_it_back(tmp_path: Path) -> None:
    record = completed(tmp_path)
    Path(record.outputs[0].path).unlink()
    with pytest.raises(StoredFileMissing, match="call separate_audio again with the same request .* without a new job"):
        read_output(record, "Vocals")


def test_a_file_too_big_to_carry_is_opened_from_its_folder(tmp_path: Path) -> None:
    with pytest.raises(StoredFileError, match=f"more than the 0 MB a resource read carries: open it from {tmp_path}"):
        read_output(completed(tmp_path), "Vocals", max_bytes=10)


def test_without_paths_a_refusal_names_no_server_folder(tmp_path: Path) -> None:
    record = completed(tmp_path)
    with pytest.raises(StoredFileError) as too_big:
        read_output(record, "Vocals", max_bytes=10, show_paths=False)
    Path(record.outputs[0].path).unlink()
    with pytest.raises(StoredFileError) as gone:
        read_output(record, "Vocals", show_paths=False)
    for refusal in (too_big.value, gone.value):
        assert str(tmp_path) not in refusal.user_text() and "the job's folder" in refusal.user_text()


def test_no_manifest_yet(tmp_path: Path) -> None:
    with pytest.raises(StoredFileMissing, match="no manifest yet"):
        read_manifest(completed(tmp_path))


def test_a_session_file_is_served_while_it_is_the_one_recorded(tmp_path: Path) -> None:
    from mvsep_mcp.media.manifest import ManifestSession, update_sessions, write_manifest
    from mvsep_mcp.results.stored import read_session

    from tests.media.test_manifest import build

    rpp = tmp_path / "Song.rpp"
    rpp.write_text("<REAPER_PROJECT\n>\n", encoding="utf-8")
    manifest = write_manifest(tmp_path, build(tmp_path / "stems"))
    update_sessions(manifest, [ManifestSession(kind="rpp", path="Song.rpp", absolute_path=str(rpp),
                                               size=rpp.stat().st_size, sha256="0" * 64)])
    record = completed(tmp_path).model_copy(update={"sessions": [str(rpp)], "manifest_path": str(manifest)})
    assert read_session(record, "song.RPP") == b"<REAPER_PROJECT\n>\n"
    with pytest.raises(StoredFileError, match="no DAW session 'Song.dawproject'; its sessions: Song.rpp"):
        read_session(record, "Song.dawproject")
    rpp.write_text("<REAPER_PROJECT\n  saved in REAPER\n>\n", encoding="utf-8")
    with pytest.raises(StoredFileError, match="not served as the job's DAW session: write the session again with "
                                              "make_daw_session"):
        read_session(record, "Song.rpp")
    rpp.unlink()
    with pytest.raises(StoredFileError, match="is gone"):
        read_session(record, "Song.rpp")
    with pytest.raises(StoredFileError, match="none yet"):
        read_session(completed(tmp_path), "Song.rpp")
