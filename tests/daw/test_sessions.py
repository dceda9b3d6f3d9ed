"""Session files: the track model, a .dawproject valid against the official XSDs, a REAPER .rpp that parses."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from lxml import etree
from mvsep_mcp.daw import SessionError, StemFile, build_session, stem_colour, stem_file, write_dawproject, write_rpp
from mvsep_mcp.daw.daw_session import MIX_TRACK_NAME, stem_type
from mvsep_mcp.daw.reaper import reaper_colour, rpp_quote

from tests.daw.conftest import DATA, FRAMES, RATE, write_m4a, write_mp3, write_pcm

SCHEMAS = {name: etree.XMLSchema(etree.parse(str(DATA / name))) for name in ("Project.xsd", "MetaData.xsd")}


@pytest.fixture
def song(tmp_path: Path) -> dict[str, Path]:
    """A song folder as the runner leaves it: stems from two jobs (several formats) and the original mix."""
    stems = tmp_path / "Music" / "Artist" / "Café Song"
    stems.mkdir(parents=True)
    files = {"mix": tmp_path / "input" / "Café Song.flac"}
    files["mix"].parent.mkdir()
    write_pcm(files["mix"], FRAMES)
    files["vocals"] = stems / "Café Song - Vocals.wav"
    write_pcm(files["vocals"], FRAMES, subtype="PCM_24")
    files["drums"] = stems / "Café Song - Drums.flac"
    write_pcm(files["drums"], FRAMES)
    files["bass"] = stems / "Café Song - Bass.mp3"
    write_mp3(files["bass"], FRAMES)
    files["vocals2"] = stems / "Café Song - Vocals (2).m4a"
    write_m4a(files["vocals2"], FRAMES, movie_timescale=RATE)
    files["other"] = stems / 'Odd "name" it\'s.wav'
    write_pcm(files["other"], FRAMES, channels=1)
    return files


def _session(song: dict[str, Path], tempo: float | None = 128.0):  # type: ignore[no-untyped-def]
    stems = [stem_file(song["vocals"], "Vocals", model="BS Roformer", job="j1111111"),
             stem_file(song["drums"], "Drums", model="Demucs4 HT", job="j2222222"),
             stem_file(song["bass"], "Bass", model="Demucs4 HT", job="j2222222"),
             stem_file(song["vocals2"], "Vocals", model="Demucs4 HT", job="j2222222"),
             stem_file(song["other"], "Other", model="Demucs4 HT", job="j2222222")]
    return build_session("Café Song", stems, stem_file(song["mix"], "Mix"), tempo_bpm=tempo, artist="Artist",
                         album="Album", year="2024", genre="Electronic")


# ------------------------------------------------------------------------------------------------ the model


def test_session_model(song: dict[str, Path]) -> None:
    session = _session(song)
    names = [t.name for t in session.tracks]
    assert names == ["Vocals (BS Roformer)", "Drums", "Bass", "Vocals (Demucs4 HT)", "Other", MIX_TRACK_NAME]
    assert [t.muted for t in session.tracks] == [False] * 5 + [True]
    assert session.tracks[-1].stem is None and session.sample_rate == RATE
    assert session.tracks[0].colour == session.tracks[3].colour == stem_colour("vocals")
    assert len({t.colour for t in session.tracks}) == 5
    assert session.tracks[4].channels == 1 and session.tracks[1].duration_s == pytest.approx(FRAMES / RATE)
    assert session.tracks[0].comment == "Vocals stem separated by MVSep (BS Roformer, job j1111111)"


def test_stem_types_and_colours() -> None:
    assert stem_type("Lead Vocals") == "vocals" and stem_type("back_vocals") == "back_vocals"
    assert stem_type("Instrumental") == "other" and stem_type("Kick") == "drums" and stem_type("Zither") is None
    assert stem_colour("Zither") == stem_colour("zither") and stem_colour("Zither").startswith("#")
    assert stem_colour("Bass") != stem_colour("Vocals")


def test_same_name_without_models_is_numbered(tmp_path: Path) -> None:
    one = StemFile(tmp_path / "a.wav", "Vocals", 2, RATE, 1.0)
    session = build_session("S", [one, one, StemFile(tmp_path / "b.wav", "vocals", 2, RATE, 1.0)])
    assert [t.name for t in session.tracks] == ["Vocals", "Vocals 2", "vocals 3"]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"stems": []}, "at least one stem"),
    ({"tempo_bpm": 0.0}, "outside 20-666"),
    ({"tempo_bpm": 1000.0}, "outside 20-666"),
    ({"time_signature": (4, 3)}, "not a time signature"),
])
def test_bad_sessions(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"stems": [StemFile(tmp_path / "a.wav", "Vocals", 2, RATE, 1.0)]}
    args.update(kwargs)
    with pytest.raises(SessionError, match=message):
        build_session("S", **args)  # type: ignore[arg-type]


def test_stem_file_of_junk(tmp_path: Path) -> None:
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"no")
    with pytest.raises(SessionError, match="cannot be put in a session"):
        stem_file(junk, "Vocals")


# --------------------------------------------------------------------------------------------- .dawproject


def _validate(archive: zipfile.ZipFile) -> etree._Element:
    project = etree.fromstring(archive.read("project.xml"))
    metadata = etree.fromstring(archive.read("metadata.xml"))
    SCHEMAS["Project.xsd"].assertValid(project)
    SCHEMAS["MetaData.xsd"].assertValid(metadata)
    assert metadata.findtext("Title") == "Café Song" and metadata.findtext("Artist") == "Artist"
    return project


def test_dawproject_with_external_files(song: dict[str, Path]) -> None:
    folder = song["vocals"].parent
    path = write_dawproject(_session(song), folder / "Café Song")
    assert path == folder / "Café Song.dawproject"
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["metadata.xml", "project.xml"]
        project = _validate(archive)
    assert project.get("version") == "1.0"
    tracks = {t.get("id"): t for t in project.iter("Track")}
    lanes = project.find("Arrangement/Lanes")
    assert lanes is not None and lanes.get("timeUnit") == "seconds"
    referenced = {}
    for track_lanes in lanes.findall("Lanes"):
        track = tracks[track_lanes.get("track")]
        clip = track_lanes.find("Clips/Clip")
        audio = clip.find("Audio")  # type: ignore[union-attr]
        file = audio.find("File")  # type: ignore[union-attr]
        assert clip.get("time") == "0.0" and clip.get("contentTimeUnit") == "seconds"  # type: ignore[union-attr]
        assert file.get("external") == "true"  # type: ignore[union-attr]
        target = (path.parent / file.get("path")).resolve()  # type: ignore[union-attr, operator]
        assert target.is_file()
        assert float(audio.get("duration")) == pytest.approx(FRAMES / RATE)  # type: ignore[union-attr, arg-type]
        assert audio.get("sampleRate") == str(RATE)  # type: ignore[union-attr]
        muted = track.find("Channel/Mute").get("value")  # type: ignore[union-attr]
        referenced[target] = (track.get("name"), muted, audio.get("channels"))  # type: ignore[union-attr]
    assert referenced == {
        song["vocals"].resolve(): ("Vocals (BS Roformer)", "false", "2"),
        song["drums"].resolve(): ("Drums", "false", "2"),
        song["bass"].resolve(): ("Bass", "false", "2"),
        song["vocals2"].resolve(): ("Vocals (Demucs4 HT)", "false", "2"),
        song["other"].resolve(): ("Other", "false", "1"),
        song["mix"].resolve(): (MIX_TRACK_NAME, "true", "2"),
    }
    tempo = project.find("Transport/Tempo")
    assert tempo is not None and tempo.get("value") == "128.0" and tempo.get("unit") == "bpm"
    master = [t for t in tracks.values() if t.find("Channel").get("role") == "master"]  # type: ignore[union-attr]
    assert len(master) == 1
    master_channel = master[0].find("Channel").get("id")  # type: ignore[union-attr]
    for track in tracks.values():
        channel = track.find("Channel")
        assert channel is not None
        if channel.get("role") == "regular":
            assert channel.get("destination") == master_channel
            assert track.get("color", "").startswith("#")
    # never overwrite: a second export lands beside the first
    assert write_dawproject(_session(song), folder / "Café Song.dawproject") == folder / "Café Song (2).dawproject"


def test_dawproject_embedded_and_without_tempo(song: dict[str, Path], tmp_path: Path) -> None:
    path = write_dawproject(_session(song, tempo=None), tmp_path / "elsewhere" / "song.dawproject", embed=True)
    with zipfile.ZipFile(path) as archive:
        project = _validate(archive)
        names = set(archive.namelist())
        files = [f.get("path") for f in project.iter("File")]
        assert all(f.get("external") is None for f in project.iter("File"))
        assert len(files) == 6 and set(files) <= names
        for key, name in (("vocals", "audio/Café Song - Vocals.wav"), ("mix", "audio/Café Song.flac")):
            assert archive.read(name) == song[key].read_bytes()
    assert project.find("Transport") is None


# ------------------------------------------------------------------------------------------------- .rpp


@dataclass
class Node:
    """A parsed RPP block: its header tokens, its lines (token lists) and its child blocks."""

    head: list[str]
    lines: list[list[str]] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)

    def first(self, key: str) -> list[str] | None:
        return next((line[1:] for line in self.lines if line[0] == key), None)

    def blocks(self, name: str) -> list[Node]:
        return [c for c in self.children if c.head[0] == name]


def tokenize(line: str) -> list[str]:
    """REAPER's tokens: bare words, or strings in "…", '…' or `…`."""
    tokens, i = [], 0
    while i < len(line):
        if line[i].isspace():
            i += 1
        elif line[i] in "\"'`":
            end = line.index(line[i], i + 1)
            tokens.append(line[i + 1:end])
            i = end + 1
        else:
            end = i
            while end < len(line) and not line[end].isspace():
                end += 1
            tokens.append(line[i:end])
            i = end
    return tokens


def parse_rpp(text: str) -> Node:
    stack: list[Node] = []
    root: Node | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("<"):
            node = Node(tokenize(line[1:]))
            if stack:
                stack[-1].children.append(node)
            else:
                root = node
            stack.append(node)
        elif line == ">":
            stack.pop()
        elif not line.startswith("|"):
            stack[-1].lines.append(tokenize(line))
    assert root is not None and not stack, "unbalanced blocks"
    return root


def test_rpp(song: dict[str, Path]) -> None:
    folder = song["vocals"].parent
    path = write_rpp(_session(song), folder / "Café Song")
    assert path == folder / "Café Song.rpp"
    root = parse_rpp(path.read_text(encoding="utf-8"))
    assert root.head[0] == "REAPER_PROJECT"
    assert root.first("TEMPO") == ["128", "4", "4"] and root.first("SAMPLERATE") == [str(RATE), "0", "0"]
    referenced = {}
    for track in root.blocks("TRACK"):
        items = track.blocks("ITEM")
        assert len(items) == 1
        item = items[0]
        assert item.first("POSITION") == ["0"]
        assert float(item.first("LENGTH")[0]) == pytest.approx(FRAMES / RATE)  # type: ignore[index]
        source = item.blocks("SOURCE")[0]
        file = source.first("FILE")[0]  # type: ignore[index]
        target = (path.parent / file).resolve()
        assert target.is_file() and not Path(file).is_absolute()
        name, mute = track.first("NAME")[0], track.first("MUTESOLO")[0]  # type: ignore[index]
        referenced[target] = (name, source.head[1], mute)
        assert int(track.first("PEAKCOL")[0]) & 0x1000000  # type: ignore[index]
    assert referenced == {
        song["vocals"].resolve(): ("Vocals (BS Roformer)", "WAVE", "0"),
        song["drums"].resolve(): ("Drums", "FLAC", "0"),
        song["bass"].resolve(): ("Bass", "MP3", "0"),
        song["vocals2"].resolve(): ("Vocals (Demucs4 HT)", "VIDEO", "0"),
        song["other"].resolve(): ("Other", "WAVE", "0"),
        song["mix"].resolve(): (MIX_TRACK_NAME, "FLAC", "1"),
    }
    assert write_rpp(_session(song), path) == folder / "Café Song (2).rpp"


def test_rpp_defaults_and_quoting(song: dict[str, Path], tmp_path: Path) -> None:
    root = parse_rpp(write_rpp(_session(song, tempo=None), tmp_path / "p.rpp").read_text(encoding="utf-8"))
    assert root.first("TEMPO") == ["120", "4", "4"]
    assert rpp_quote('say "hi"') == "'say \"hi\"'" and rpp_quote("it's \"x\"") == "`it's \"x\"`"
    assert rpp_quote("a`'\"") == "`a''\"`" and rpp_quote("two\nlines") == '"two lines"'
    assert tokenize(rpp_quote('it\'s "x"')) == ['it\'s "x"']
    assert reaper_colour("#E5484D") == 0x1000000 | 0x4D << 16 | 0x48 << 8 | 0xE5


def test_rpp_refuses_an_unknown_format(tmp_path: Path) -> None:
    session = build_session("S", [StemFile(tmp_path / "a.xyz", "Vocals", 2, RATE, 1.0)])
    with pytest.raises(SessionError, match="no source type"):
        write_rpp(session, tmp_path / "p.rpp")
    assert not list(tmp_path.glob("*.rpp")) and not list(tmp_path.glob(".*.part"))
