"""Sessions from jobs: one song's stems picked from its jobs, checked, written beside the stems; tempo from tags."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from lxml import etree
from mutagen.flac import FLAC
from mutagen.id3 import TBPM
from mutagen.mp4 import MP4
from mutagen.wave import WAVE
from mvsep_mcp.daw import SessionError
from mvsep_mcp.daw.tempo import parse_tempo, read_tempo_bpm
from mvsep_mcp.jobs.models import JobRecord, JobSpec, JobState, OutputFile
from mvsep_mcp.media.files import sha256_file
from mvsep_mcp.results.sessions import StemPick, group_by_song, session_after_job, sessions_from_jobs, song_stems

from tests.daw.conftest import DATA, FRAMES, RATE, write_m4a, write_pcm
from tests.daw.test_sessions import parse_rpp

SCHEMA = etree.XMLSchema(etree.parse(str(DATA / "Project.xsd")))


def record(job_id: str, mix: Path, stems: dict[str, Path], *, model: str = "BS Roformer",
           state: JobState = JobState.COMPLETED, tags: dict[str, Any] | None = None, **spec: Any) -> JobRecord:
    """A journal record as the runner leaves it: the input, its hash and tags, one committed file per stem."""
    now = time.time()
    fields: dict[str, Any] = {"account_key": "acct", "base_url": "http://127.0.0.1:9/api", "input_path": str(mix),
                              "sep_type": 40, "model_name": model, "output_root": str(mix.parent),
                              "input_sha256": sha256_file(mix) if mix.is_file() else None,
                              "input_tags": tags if tags is not None else {"title": "Café Song", "artist": "Artist",
                                                                           "date": "2024-05-01"}}
    fields.update(spec)
    outputs = [OutputFile(stem=name, path=str(path), size=path.stat().st_size, sha256=sha256_file(path),
                          url=f"http://127.0.0.1:9/{path.name}") for name, path in stems.items()]
    return JobRecord(id=job_id, spec=JobSpec(**fields), state=state, created_at=now, updated_at=now, outputs=outputs)


@pytest.fixture
def song(tmp_path: Path) -> dict[str, Path]:
    """A mix with a tempo tag and the stems of two models' jobs on it, plus a chain: drums of job A's instrumental."""
    files = {"mix": tmp_path / "in" / "Café Song.flac"}
    files["mix"].parent.mkdir()
    write_pcm(files["mix"], FRAMES)
    tagged = FLAC(files["mix"])
    tagged["BPM"] = "126"
    tagged.save()
    out = tmp_path / "out" / "Artist - Café Song"
    out.mkdir(parents=True)
    for index, key in enumerate(("a_vocals", "a_instrumental", "b_vocals", "b_drums", "c_drums", "c_other")):
        files[key] = out / f"{key}.flac"
        audio = write_pcm(files[key], FRAMES)
        sf.write(str(files[key]), audio * (0.9 - 0.1 * index), RATE)  # every stem its own content (and hash)
    return files


def jobs(song: dict[str, Path]) -> dict[str, JobRecord]:
    a = record("ja", song["mix"], {"Vocals": song["a_vocals"], "Instrumental": song["a_instrumental"]})
    b = record("jb", song["mix"], {"Vocals": song["b_vocals"], "Drums": song["b_drums"]}, model="Demucs4 HT")
    c = record("jc", song["a_instrumental"], {"Drums": song["c_drums"], "Other": song["c_other"]},
               model="DrumSep", tags={"title": "Café Song (instrumental)"})
    return {"a": a, "b": b, "c": c}


def test_one_job_gives_every_stem_and_the_mix(song: dict[str, Path]) -> None:
    a = jobs(song)["a"]
    written = session_after_job(a)
    folder = song["a_vocals"].parent
    assert [p.name for p in written.paths] == ["Café Song.dawproject", "Café Song.rpp"]
    assert all(p.parent == folder for p in written.paths)
    session = written.session
    assert [t.name for t in session.tracks] == ["Vocals", "Instrumental", "Original mix"]
    assert session.tracks[-1].muted and session.tracks[-1].path == song["mix"].absolute()
    assert session.tempo_bpm == 126.0 and session.artist == "Artist" and session.year == "2024"
    assert written.notes == ()
    with zipfile.ZipFile(written.paths[0]) as archive:
        project = etree.fromstring(archive.read("project.xml"))
    SCHEMA.assertValid(project)
    assert project.find("Transport/Tempo").get("value") == "126.0"
    rpp = parse_rpp(written.paths[1].read_text(encoding="utf-8"))
    files = {(folder / t.blocks("ITEM")[0].blocks("SOURCE")[0].first("FILE")[0]).resolve()  # type: ignore[index]
             for t in rpp.blocks("TRACK")}
    assert files == {song["a_vocals"].resolve(), song["a_instrumental"].resolve(), song["mix"].resolve()}
    again = session_after_job(a, ["rpp"])  # never overwrites
    assert [p.name for p in again.paths] == ["Café Song (2).rpp"]


def test_stems_picked_from_several_jobs(song: dict[str, Path]) -> None:
    j = jobs(song)
    picks = [StemPick("ja", "vocals"), StemPick("jb", "VOCALS"), StemPick("jb", "Drums"), StemPick("ja", "Vocals")]
    written = sessions_from_jobs([j["a"], j["b"]], picks, ["dawproject"], embed=True)
    assert [t.name for t in written.session.tracks] == ["Vocals (BS Roformer)", "Vocals (Demucs4 HT)", "Drums",
                                                        "Original mix"]
    assert [t.job for t in written.session.tracks[:3]] == ["ja", "jb", "jb"]
    with zipfile.ZipFile(written.paths[0]) as archive:
        assert sum(name.startswith("audio/") for name in archive.namelist()) == 4
        # sizes and CRC in every local header, no data descriptors: Cubase 14's reader needs them there
        assert all(not info.flag_bits & 0x08 for info in archive.infolist())


def test_a_chain_of_jobs_is_one_song(song: dict[str, Path]) -> None:
    j = jobs(song)
    assert len(group_by_song([j["c"], j["a"]])) == 1
    picked = song_stems([j["c"], j["a"]], [StemPick("jc"), StemPick("ja", "vocals")])
    assert picked.root.id == "ja" and picked.title == "Café Song" and picked.mix_path == song["mix"]
    assert [p.output.stem for p in picked.picked] == ["Drums", "Other", "Vocals"]


def test_different_songs_are_refused(song: dict[str, Path], tmp_path: Path) -> None:
    other_mix = tmp_path / "in" / "Other.wav"
    write_pcm(other_mix, FRAMES, channels=1)
    other = record("jz", other_mix, {"Vocals": song["b_vocals"]}, tags={"title": "Other Song"})
    with pytest.raises(SessionError, match=r"different songs: ja \(Café Song\); jz \(Other Song\)"):
        song_stems([jobs(song)["a"], other], [StemPick("ja"), StemPick("jz")])


@pytest.mark.parametrize(("change", "message"), [
    ({"state": JobState.ACTIVE}, "is active, not completed: wait for it with wait_for_jobs"),
    ({"state": JobState.FAILED}, "is failed, not completed: pick a completed job"),
    ({"spec_kind": "matchering"}, "is a matchering job, not a separation"),
    ({"outputs": []}, "saved no stems"),
])
def test_jobs_that_cannot_give_stems(song: dict[str, Path], change: dict[str, Any], message: str) -> None:
    a = jobs(song)["a"]
    if "spec_kind" in change:
        a = a.model_copy(update={"spec": a.spec.model_copy(update={"kind": change.pop("spec_kind")})})
    a = a.model_copy(update=change)
    with pytest.raises(SessionError, match=message):
        song_stems([a], [StemPick("ja")])


def test_unknown_stems_gone_files_and_missing_records(song: dict[str, Path]) -> None:
    a = jobs(song)["a"]
    with pytest.raises(SessionError, match="has no 'bass' stem; its stems are Vocals, Instrumental"):
        song_stems([a], [StemPick("ja", "bass")])
    with pytest.raises(SessionError, match="No record was given for job jq"):
        song_stems([a], [StemPick("jq")])
    with pytest.raises(SessionError, match="at least one"):
        song_stems([a], [])
    song["a_vocals"].unlink()
    with pytest.raises(SessionError,
                       match=r"a_vocals.flac is no longer where job ja saved it .*call separate_audio again with the"):
        song_stems([a], [StemPick("ja")])


def test_a_gone_mix_or_a_url_is_a_note_not_a_refusal(song: dict[str, Path]) -> None:
    j = jobs(song)
    song["mix"].unlink()
    written = sessions_from_jobs([j["a"]], [StemPick("ja")], ["rpp"])
    assert [t.name for t in written.session.tracks] == ["Vocals", "Instrumental"]
    assert "is gone, so the session has no reference track" in written.notes[0]
    assert written.session.tempo_bpm is None
    url = j["b"].model_copy(update={"spec": j["b"].spec.model_copy(update={
        "kind": "url", "url": "https://example.test/files/My%20Tune.mp3", "input_path": None, "input_sha256": None,
        "input_tags": {}})})
    picked = song_stems([url], [StemPick("jb")])
    assert picked.title == "My Tune"
    assert picked.mix_path is None and "came from a URL" in picked.notes[0]


def test_formats_are_checked(song: dict[str, Path]) -> None:
    with pytest.raises(SessionError, match="Session formats are dawproject and rpp"):
        session_after_job(jobs(song)["a"], ["als"])


# ------------------------------------------------------------------------------------------------- tempo


def test_tempo_from_each_kind_of_tag(tmp_path: Path) -> None:
    silence = np.zeros((4410, 2), dtype=np.float32)
    wav, flac, ogg, m4a, bare = (tmp_path / n for n in ("t.wav", "t.flac", "t.ogg", "t.m4a", "bare.wav"))
    for path in (wav, flac, ogg, bare):
        sf.write(str(path), silence, 44100)
    tagged_wav = WAVE(wav)
    tagged_wav.add_tags()
    tagged_wav.tags.add(TBPM(encoding=3, text=["128"]))
    tagged_wav.save()
    tagged_flac = FLAC(flac)
    tagged_flac["bpm"] = "97,5"
    tagged_flac.save()
    import mutagen

    tagged_ogg = mutagen.File(ogg)
    tagged_ogg["BPM"] = "88 BPM"
    tagged_ogg.save()
    write_m4a(m4a, 4410)
    tagged_m4a = MP4(m4a)
    tagged_m4a["tmpo"] = [140]
    tagged_m4a.save()
    assert [read_tempo_bpm(p) for p in (wav, flac, ogg, m4a, bare)] == [128.0, 97.5, 88.0, 140.0, None]
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(b"\xff" * 10)
    assert read_tempo_bpm(junk) is None and read_tempo_bpm(tmp_path / "absent.flac") is None


@pytest.mark.parametrize(("value", "bpm"), [("120", 120.0), (["99.9"], 99.9), (128, 128.0), ("0", None),
                                            ("9000", None), ("fast", None), (None, None), (True, None), ([], None)])
def test_parse_tempo(value: Any, bpm: float | None) -> None:
    assert parse_tempo(value) == bpm
