"""Files made from a job in the journal: refused for an unfinished job or a folder outside its output root, written
beside the stems without replacing anything, recorded in the manifest, returned again while unchanged."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from mvsep_mcp.daw import SessionError
from mvsep_mcp.daw.mix import MixError
from mvsep_mcp.jobs.models import JobRecord, JobState
from mvsep_mcp.media.manifest import read_manifest
from mvsep_mcp.results.made import make_dj_stems, make_mix, record_in_manifest
from mvsep_mcp.results.stored import StoredFileError, read_file

from tests.daw.conftest import FRAMES, RATE, write_pcm
from tests.results.test_recorded import with_manifest
from tests.results.test_sessions import record

NAMES = ("Vocals", "Drums", "Bass", "Other")


def four_stems(tmp_path: Path, **spec: object) -> JobRecord:
    """A completed 4-stem WAV job on a FLAC song, with its manifest beside the stems."""
    song = tmp_path / "in" / "Song.flac"
    song.parent.mkdir()
    write_pcm(song, FRAMES)
    folder = tmp_path / "out" / "Song"
    folder.mkdir(parents=True)
    stems = {}
    for index, name in enumerate(NAMES):
        stems[name] = folder / f"Song ({name}).wav"
        sf.write(str(stems[name]), write_pcm(stems[name], FRAMES) * (0.1 + 0.05 * index), RATE, subtype="PCM_16")
    made = record("j4", song, stems, output_format=1, tags={"title": "Song"}, **spec)
    return with_manifest(made, folder, tmp_path / "out")


def test_an_unfinished_job_is_refused_with_what_to_do(tmp_path: Path) -> None:
    active = four_stems(tmp_path).model_copy(update={"state": JobState.ACTIVE})
    for make in (make_dj_stems, lambda r: make_mix(r, only=["Bass"])):
        with pytest.raises(SessionError) as refused:
            make(active)
        assert refused.value.user_text() == "Job j4 is active, not completed: wait for it with wait_for_jobs."


def test_stems_outside_the_jobs_output_folder_get_nothing_beside_them(tmp_path: Path) -> None:
    job = four_stems(tmp_path)
    moved = job.model_copy(update={"spec": job.spec.model_copy(update={"output_root": str(tmp_path / "other")})})
    with pytest.raises(MixError, match="no longer inside its output folder"):
        make_mix(moved, without=["Bass"])
    assert not list((tmp_path / "out" / "Song").glob("Song (no Bass)*"))


def test_a_mix_never_replaces_a_file_and_is_returned_again_while_unchanged(tmp_path: Path) -> None:
    job = four_stems(tmp_path)
    taken = tmp_path / "out" / "Song" / "Song (no Bass).flac"
    taken.write_bytes(b"the user's own file")
    made = make_mix(job, without=["bass"], output_format="flac")
    assert made.path.name == "Song (no Bass) (2).flac" and taken.read_bytes() == b"the user's own file"
    assert record_in_manifest(made) == Path(job.manifest_path or "")
    recorded = job.model_copy(update={"made": [str(made.path)]})
    again = make_mix(recorded, without=["Bass"], output_format="flac")
    assert again.reused and again.path == made.path and again.gain == 1.0
    assert read_file(recorded, made.path.stem, "flac") == made.path.read_bytes()  # served under files/
    other_format = make_mix(recorded, without=["Bass"], output_format="wav")
    assert not other_format.reused and other_format.path.name == "Song (no Bass).wav"
    made.path.write_bytes(b"changed")
    assert not make_mix(recorded, without=["Bass"], output_format="flac").reused  # changed: made anew
    with pytest.raises(StoredFileError, match="changed after it was saved"):
        read_file(recorded, made.path.stem, "flac")
    [entry, *_] = read_manifest(Path(job.manifest_path or "")).made
    assert (entry.kind, entry.path, entry.stems, entry.gain_db) == ("mix", "Song (no Bass) (2).flac",
                                                                   ["Vocals", "Drums", "Other"], 0.0)


def test_dj_stems_of_a_url_job_use_the_sum_of_the_stems_as_the_master(tmp_path: Path) -> None:
    job = four_stems(tmp_path, kind="url", url="https://example.com/song.mp3", input_duration_s=FRAMES / RATE)
    made = make_dj_stems(job)
    assert made.path.name == "Song.stem.mp4" and made.stems == ("Drums", "Bass", "Other", "Vocals")
    assert made.notes == ("The master track is the sum of the four stems (the song itself is not on disk here).",)
    master = _track(made.path, 0)
    assert len(master) == FRAMES
    assert np.abs(master - sum(sf.read(o.path, dtype="float32")[0] for o in job.outputs)).max() < 1e-4
    again = make_dj_stems(job)  # not recorded, so made again: numbered before the double suffix
    assert again.path.name == "Song (2).stem.mp4"


def _track(path: Path, index: int) -> np.ndarray:
    import av

    with av.open(str(path)) as container:
        frames = [f.to_ndarray() for f in container.decode(container.streams.audio[index])]
    return np.concatenate(frames, axis=1).T.astype(np.float32) / 2 ** 15
