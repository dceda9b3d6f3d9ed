"""Downloads of a finished job, piece by piece: extension and stem label of each result file, the files still to
fetch, where each goes (never outside the output root), one file fetched and committed, the tags, the manifest."""

from __future__ import annotations

import errno
import json
from pathlib import Path
from typing import Any

import mutagen
import pytest
from mvsep_mcp.jobs import JobRecord, JobSpec, JobState, OutputFile
from mvsep_mcp.jobs import downloads as dl
from mvsep_mcp.media import read_tags
from mvsep_mcp.media.errors import MediaError
from mvsep_mcp.media.files import sha256_file
from mvsep_mcp.media.tags import TrackTags
from mvsep_mcp.media.verify import StemRejected
from mvsep_mcp.mvsep import errors
from mvsep_mcp.mvsep.models import SeparationData

from tests.jobs.fake_mvsep import FakeMVSep
from tests.jobs.helpers import input_file, make_spec

HASH = "20240212075543-a274f83da2-my-song.flac"


def make_record(spec: JobSpec, **over: Any) -> JobRecord:
    return JobRecord.model_validate({"id": "job1", "spec": spec, "state": JobState.DOWNLOADING, "hash": HASH,
                                     "created_at": 0, "updated_at": 0, **over})


def plain_spec(root: Path, **over: Any) -> JobSpec:
    values: dict[str, Any] = dict(account_key="a", base_url="http://127.0.0.1:9/api", input_path="/music/My Song.flac",
                                  sep_type=40, model_name="BS Roformer", output_format=2, output_root=str(root))
    values.update(over)
    return JobSpec.model_validate(values)


SONG = TrackTags(title="Title", artist="Artist", album="Album")


# --- file_ext / stem_label ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("url", "download", "fmt", "ext"), [
    ("http://h/storage/a_vocals.FLAC", None, 0, "flac"),  # the URL wins, lower-cased
    ("http://h/storage/a_vocals.wav?x=1.mp3", "a.mp3", 0, "wav"),  # the query is not the path
    ("http://h/storage/a%20b.m4a", None, 0, "m4a"),  # percent-encoded paths
    ("http://h/get?id=7", "song_vocals.MP3", 2, "mp3"),  # else the download name
    ("http://h/get?id=7", "dir\\song_bass.ogg", 2, "ogg"),  # Windows separators in the name
    ("http://h/get?id=7", None, 4, "wav"),  # else the requested format (wav32 -> .wav)
    ("http://h/get?id=7", "no-extension", 5, "flac"),
    ("http://h/a.toolongext", "b.x-y", 3, "m4a"),  # nothing extension-like: the requested format
    ("http://h/get", None, 99, "mp3"),  # an unknown format code: mp3, MVSep's default
])
def test_file_ext(url: str, download: str | None, fmt: int, ext: str) -> None:
    assert dl.file_ext(url, download, fmt) == ext


@pytest.mark.parametrize(("file_type", "download", "label"), [
    ("Vocals", "x_other.flac", "Vocals"),  # MVSep's type wins
    ("  Lead Vocals ", None, "Lead Vocals"),
    (None, "song_vocals.flac", "Vocals"),  # known stem words are capitalised
    ("", "my_song_instrum.wav", "Instrum"),
    ("   ", "path\\to\\song_bass.mp3", "Bass"),
    (None, "song_custom-stem.flac", "custom-stem"),  # other words are kept as they are
    (None, "single.flac", "single"),
    (None, "trailing_.flac", "stem 3"),  # nothing after the last underscore
    (None, None, "stem 3"),
])
def test_stem_label(file_type: str | None, download: str | None, label: str) -> None:
    assert dl.stem_label(file_type, download, 2) == label


# --- plan_files -----------------------------------------------------------------------------------------------------

def test_plan_files_skips_recorded_and_empty_urls(tmp_path: Path) -> None:
    done = OutputFile(stem="Vocals", path=str(tmp_path / "v.flac"), size=1, sha256="0" * 64, url="http://h/v.flac")
    record = make_record(plain_spec(tmp_path), outputs=[done])
    data = SeparationData.model_validate({"files": [
        {"type": "Vocals", "url": "http://h/v.flac"},
        {"type": None, "url": "http://h/get?id=2", "download": "song_instrumental.wav"},
        {"type": "Other", "url": ""},
        {"type": "Bass", "url": "http://h/b.mp3"},
    ]})
    tasks = dl.plan_files(record, list(data.files))
    assert [(t.url, t.stem, t.ext) for t in tasks] == [
        ("http://h/get?id=2", "Instrumental", "wav"),
        ("http://h/b.mp3", "Bass", "mp3"),  # labelled by its position in MVSep's list
    ]


# --- destination ----------------------------------------------------------------------------------------------------

def test_destination_follows_the_default_template(tmp_path: Path) -> None:
    path = dl.destination(make_record(plain_spec(tmp_path)), SONG, "Vocals", "flac")
    assert path == tmp_path.resolve() / "Artist - Title" / "Title (Vocals).flac"


def test_destination_with_a_template_of_its_own(tmp_path: Path) -> None:
    spec = plain_spec(tmp_path, name_template="{model}/{input} [{hash}] - {stem}.{ext}")
    path = dl.destination(make_record(spec), TrackTags(), "Bass", "wav")
    assert path == tmp_path.resolve() / "BS Roformer" / "My Song [a274f83da2] - Bass.wav"  # {input} drops .flac


def test_destination_without_tags_or_model_name(tmp_path: Path) -> None:
    spec = plain_spec(tmp_path, model_name="", name_template="{title} - {model} - {stem}.{ext}")
    path = dl.destination(make_record(spec), TrackTags(), "Other", "mp3")
    assert path.name == "My Song - model 40 - Other.mp3"


def test_destination_expands_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    path = dl.destination(make_record(plain_spec(Path("~/Stems"))), SONG, "Vocals", "flac")
    assert path.is_relative_to(tmp_path.resolve() / "Stems")


HOSTILE = ["../../etc/passwd", "/etc/passwd", "..", "..\\..\\windows\\system32", "C:\\evil", "a/../../b", "\x00x",
           ".hidden", "con"]


@pytest.mark.parametrize("name", HOSTILE)
def test_destination_stays_inside_the_root_whatever_the_names(tmp_path: Path, name: str) -> None:
    root = (tmp_path / "out").resolve()
    spec = plain_spec(root, name_template="{artist}/{album}/{title} ({stem}).{ext}")
    tags = TrackTags(title=name, artist=name, album=name)
    for stem in (name, "Vocals"):
        path = dl.destination(make_record(spec), tags, stem, "flac")
        assert path.is_relative_to(root) and path != root, path
        assert len(path.relative_to(root).parts) == 3  # no component added or removed by the values


# --- fetch_one ------------------------------------------------------------------------------------------------------

@pytest.fixture
def tagged_job(tmp_path: Path) -> JobRecord:
    return make_record(make_spec(tmp_path, input_file(tmp_path)))


async def test_fetch_one_commits_a_tagged_file(tmp_path: Path, tagged_job: JobRecord) -> None:
    fake = FakeMVSep()
    sizes: list[int] = []
    task = dl.FileTask(url="http://127.0.0.1:9/storage/x_vocals.flac", stem="Vocals", ext="flac")
    output = await dl.fetch_one(fake, tagged_job, task, SONG, on_bytes=sizes.append)
    path = Path(output.path)
    assert path == tmp_path.resolve() / "out" / "Artist - Title" / "Title (Vocals).flac"
    assert (output.stem, output.url, output.size) == ("Vocals", task.url, path.stat().st_size)
    assert output.sha256 == sha256_file(path)  # hashed after tagging: the bytes on disk
    assert len(sizes) == 1 and sizes[0] > 0
    tags = read_tags(path)
    assert tags.artist == "Artist" and tags.album == "Album" and "Vocals" in (tags.title or "")
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left


async def test_fetch_one_never_overwrites(tmp_path: Path, tagged_job: JobRecord) -> None:
    fake = FakeMVSep()
    task = dl.FileTask(url="http://127.0.0.1:9/storage/x_vocals.flac", stem="Vocals", ext="flac")
    first = await dl.fetch_one(fake, tagged_job, task, SONG)
    second = await dl.fetch_one(fake, tagged_job, task, SONG)
    assert first.path != second.path and Path(first.path).exists() and Path(second.path).exists()


async def test_a_broken_transfer_keeps_only_its_hidden_partial_for_the_retry(tmp_path: Path,
                                                                             tagged_job: JobRecord) -> None:
    fake = FakeMVSep()
    fake.download_failures = 1  # writes half a file, then the connection drops
    task = dl.FileTask(url="http://127.0.0.1:9/storage/x_vocals.flac", stem="Vocals", ext="flac")
    heard: list[dl.TempFiles] = []
    with pytest.raises(errors.ConnectError):
        await dl.fetch_one(fake, tagged_job, task, SONG, on_temp_files=heard.append)
    left = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert left == [heard[0].download] and left[0].name.startswith(".") and left[0].name.endswith(".part")
    output = await dl.fetch_one(fake, tagged_job, task, SONG)  # the same names again: the retry picks it up
    assert [p for p in (tmp_path / "out").rglob("*") if p.is_file()] == [Path(output.path)]


async def test_fetch_one_reports_why_it_failed_not_its_cleanup(tmp_path: Path, tagged_job: JobRecord) -> None:
    (tmp_path / "out").write_text("a file where the output folder should be")
    task = dl.FileTask(url="http://127.0.0.1:9/storage/x_vocals.flac", stem="Vocals", ext="flac")
    fake = FakeMVSep()
    with pytest.raises(MediaError, match="a file is in the way of one of its parent folders"):
        await dl.fetch_one(fake, tagged_job, task, SONG)
    assert fake.download_calls == 0


async def test_an_untaggable_stem_is_still_committed(tmp_path: Path, tagged_job: JobRecord,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("tagger exploded")

    monkeypatch.setattr(dl, "write_stem_tags", broken)
    task = dl.FileTask(url="http://127.0.0.1:9/storage/x_vocals.flac", stem="Vocals", ext="flac")
    output = await dl.fetch_one(FakeMVSep(), tagged_job, task, SONG)
    assert Path(output.path).is_file() and output.sha256 == sha256_file(Path(output.path))
    assert output.warnings == ["not tagged: tagger exploded"]


async def test_a_disk_that_refuses_the_tags_fails_the_stems_save(tmp_path: Path, tagged_job: JobRecord,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def full(*args: Any, **kwargs: Any) -> None:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as exc:
            raise mutagen.MutagenError(exc) from exc  # how mutagen reports it

    monkeypatch.setattr(dl, "write_stem_tags", full)
    task = dl.FileTask(url="http://127.0.0.1:9/storage/x_vocals.flac", stem="Vocals", ext="flac")
    with pytest.raises(mutagen.MutagenError) as info:
        await dl.fetch_one(FakeMVSep(), tagged_job, task, SONG)
    assert dl.is_permanent(info.value) and dl.keeps_result(info.value)
    assert not any(p.is_file() for p in (tmp_path / "out").rglob("*"))  # no stem, no temporary file


@pytest.mark.parametrize(("exc", "permanent", "keeps"), [
    (OSError(errno.ENOSPC, "full"), True, True),
    (OSError(errno.EDQUOT, "quota"), True, True),
    (OSError(errno.EFBIG, "too large"), True, True),
    (OSError(errno.EROFS, "read-only"), True, True),
    (PermissionError(errno.EACCES, "denied"), True, True),
    (OSError(errno.EIO, "i/o"), False, True),
    (StemRejected("the Vocals file (flac) is incomplete"), False, False),
    (errors.BadRequestError("Not Found", status_code=404), False, False),
    (errors.ServerError("Bad Gateway", status_code=502), False, True),
    (errors.TransportError("reset"), False, True),
])
def test_which_failures_are_permanent_and_which_keep_the_result(exc: BaseException, permanent: bool,
                                                                keeps: bool) -> None:
    assert (dl.is_permanent(exc), dl.keeps_result(exc)) == (permanent, keeps)


# --- song_tags ------------------------------------------------------------------------------------------------------

def test_song_tags_reads_the_input_and_fills_from_mvsep(tmp_path: Path) -> None:
    record = make_record(make_spec(tmp_path, input_file(tmp_path)))
    mvsep = {"tags": {"vorbiscomment": {"title": ["Server Title"], "composer": ["Someone"]}}}
    tags = dl.song_tags(record, mvsep)
    assert (tags.title, tags.artist) == ("Test Song", "Test Artist")  # the input's own tags win


def test_song_tags_of_a_text_job_come_from_the_plan(tmp_path: Path) -> None:
    spec = plain_spec(tmp_path, kind="text", input_path=None, input_tags={"title": "Greeting", "cover": "x"})
    tags = dl.song_tags(make_record(spec), {"tags": {"id3v2": {"artist": ["Voice"]}}})
    assert (tags.title, tags.artist) == ("Greeting", "Voice")


# --- write_job_manifest ---------------------------------------------------------------------------------------------

def outputs_in(folder: Path, *names: str) -> list[OutputFile]:
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for name in names:
        (folder / name).write_bytes(name.encode())
        made.append(OutputFile(stem=name.split(".")[0], path=str(folder / name), size=len(name),
                               sha256=sha256_file(folder / name), url=f"http://h/{name}"))
    return made


def test_manifest_beside_the_stems(tmp_path: Path) -> None:
    song = input_file(tmp_path)
    spec = make_spec(tmp_path, song, estimated_cost=3)
    folder = tmp_path / "out" / "Artist - Title"
    record = make_record(spec, outputs=outputs_in(folder, "Vocals.flac", "Other.flac"), state=JobState.DOWNLOADING)
    data = SeparationData.model_validate({"output_format": "flac (16 bit)",
                                          "link": "https://mvsep.com/x?hash=1&api_token=SECRET"})
    path = dl.write_job_manifest(record, data, SONG)
    assert path.parent == folder and path.name == "Title - BS Roformer (mvsep).json"
    written = json.loads(path.read_text(encoding="utf-8"))
    assert "SECRET" not in path.read_text(encoding="utf-8")
    assert {
        k: written["job"][k] for k in ("hash", "model", "model_id", "options", "output_format", "base_url_host",
                                       "mvsep_link", "job_id", "kind", "reused_from")
    } == {"hash": HASH, "model": "BS Roformer", "model_id": 40, "options": {"add_opt1": "0"},
          "output_format": "flac (16 bit)", "base_url_host": "127.0.0.1:9", "mvsep_link": "https://mvsep.com/x?hash=1",
          "job_id": "job1", "kind": "file", "reused_from": None}
    assert {k: written["input"][k] for k in ("path", "name", "size", "sha256", "tags")} == {
        "path": str(song), "name": "My Song.flac", "size": song.stat().st_size, "sha256": sha256_file(song),
        "tags": {"title": "Title", "artist": "Artist", "album": "Album"}}
    assert [(o["stem"], o["path"], o["format"]) for o in written["outputs"]] == [
        ("Vocals", "Vocals.flac", "flac"), ("Other", "Other.flac", "flac")]
    assert written["cost"] == 3


def test_manifest_of_stems_in_several_folders_goes_to_their_common_folder(tmp_path: Path) -> None:
    root = tmp_path / "out"
    outputs = outputs_in(root / "Song" / "a", "Vocals.flac") + outputs_in(root / "Song" / "b", "Bass.flac")
    record = make_record(plain_spec(root, kind="url", input_path=None, url="https://u:p@example.com/s.mp3?token=T"),
                         outputs=outputs)
    path = dl.write_job_manifest(record, SeparationData(), TrackTags())
    assert path.parent == root / "Song"
    written = json.loads(path.read_text(encoding="utf-8"))
    assert [o["path"] for o in written["outputs"]] == ["a/Vocals.flac", "b/Bass.flac"]
    assert (written["input"]["url"], written["input"]["name"]) == ("https://example.com/s.mp3", "s.mp3")
    assert written["job"]["output_format"] == 2  # MVSep gave no label: the requested code


def test_manifest_folder_never_rises_above_the_root(tmp_path: Path) -> None:
    stray = outputs_in(tmp_path / "elsewhere", "Vocals.flac")
    record = make_record(plain_spec(tmp_path / "out"), outputs=stray)
    assert dl.manifest_folder(record) == tmp_path / "out"
    assert dl.manifest_folder(make_record(plain_spec(tmp_path / "out"))) == tmp_path / "out"
