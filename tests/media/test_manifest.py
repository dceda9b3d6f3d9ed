"""Manifest: round-trip, relative paths, no secrets, default name, never overwriting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mvsep_mcp.media import (
    Manifest,
    ManifestInput,
    ManifestJob,
    ManifestOutput,
    MediaError,
    read_manifest,
    sha256_file,
    write_manifest,
)
from mvsep_mcp.policy import MAX_NAME_CHARS

from tests.audio_factory import make_audio


def build(folder: Path) -> Manifest:
    vocals = make_audio(folder, "flac", name="Test Song (Vocals)", tagged=False)
    other = make_audio(folder, "flac", name="Test Song (Other)", tagged=False, seed=3)
    return Manifest(
        job=ManifestJob(hash="20240119124024-413c481b80-song.flac", model="BS Roformer", model_id=40,
                        options={"add_opt1": 0, "add_opt2": "1"}, output_format=2,
                        base_url_host="https://user:secret@mvsep.com/api?api_token=SECRET",
                        mvsep_link="https://mvsep.com/result/abc?api_token=SECRET&lang=en"),
        input=ManifestInput(path="/music/song.flac", name="song.flac", size=1234, sha256="0" * 64, duration_s=3.0,
                            tags={"title": "Test Song", "artist": "Test Artist"}),
        outputs=[ManifestOutput.for_file(folder.parent, "Vocals", vocals),
                 ManifestOutput.for_file(folder.parent, "Other", other)],
        cost=2,
    )


def test_round_trip_and_fields(tmp_path: Path) -> None:
    folder = tmp_path / "Test Artist - Test Song"
    manifest = build(folder)
    written = write_manifest(tmp_path, manifest)
    assert written.name == "Test Song - BS Roformer (mvsep).json"
    back = read_manifest(written)
    assert back == manifest
    raw = json.loads(written.read_text(encoding="utf-8"))
    assert raw["schema_version"] == 1
    assert raw["job"]["base_url_host"] == "mvsep.com"
    assert raw["job"]["mvsep_link"] == "https://mvsep.com/result/abc?lang=en"
    assert raw["job"]["options"] == {"add_opt1": "0", "add_opt2": "1"}
    assert "SECRET" not in written.read_text(encoding="utf-8") and "secret" not in written.read_text(encoding="utf-8")
    first = raw["outputs"][0]
    assert first["stem"] == "Vocals"
    assert first["path"] == "Test Artist - Test Song/Test Song (Vocals).flac"
    assert Path(first["absolute_path"]) == folder / "Test Song (Vocals).flac"
    assert first["format"] == "flac"
    assert first["size"] == (folder / "Test Song (Vocals).flac").stat().st_size
    assert first["sha256"] == sha256_file(folder / "Test Song (Vocals).flac")
    assert (written.parent / first["path"]).is_file()


def test_never_overwrites(tmp_path: Path) -> None:
    manifest = build(tmp_path / "stems")
    first = write_manifest(tmp_path, manifest)
    second = write_manifest(tmp_path, manifest)
    named = write_manifest(tmp_path, manifest, "custom")
    assert second.name == "Test Song - BS Roformer (mvsep) (2).json"
    assert named.name == "custom.json"
    assert first.read_text() == second.read_text()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_default_name_without_title_and_long_model(tmp_path: Path) -> None:
    manifest = build(tmp_path / "stems")
    manifest = manifest.model_copy(update={
        "input": manifest.input.model_copy(update={"tags": {}, "name": "my input.flac"}),
        "job": manifest.job.model_copy(update={"model": "Ensemble 8 models (vocals, bass, drums, other) " * 5})})
    name = manifest.default_name()
    assert name.startswith("my input - Ensemble 8 models")
    assert name.endswith(" (mvsep).json")
    assert len(name) <= MAX_NAME_CHARS


def test_unknown_fields_kept_and_bad_files_refused(tmp_path: Path) -> None:
    manifest = build(tmp_path / "stems")
    path = write_manifest(tmp_path, manifest)
    data = json.loads(path.read_text())
    data["future_field"] = {"x": 1}
    path.write_text(json.dumps(data))
    assert read_manifest(path).model_extra == {"future_field": {"x": 1}}
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(MediaError, match=r"^bad\.json is not a readable mvsep-mcp manifest"):
        read_manifest(bad)


def test_sessions_are_added_and_updated_in_place(tmp_path: Path) -> None:
    from mvsep_mcp.media.manifest import ManifestSession, ManifestSessionStem, update_sessions

    manifest = build(tmp_path / "stems")
    written = write_manifest(tmp_path, manifest)
    assert json.loads(written.read_text(encoding="utf-8"))["sessions"] == []  # every manifest has the list
    entry = ManifestSession(kind="rpp", path="stems/Song.rpp", absolute_path=str(tmp_path / "stems/Song.rpp"), size=10,
                            sha256="1" * 64, stems=[ManifestSessionStem(job_id="j1", stem="Vocals",
                                                                        path="stems/Test Song (Vocals).flac")])
    update_sessions(written, [entry])
    update_sessions(written, [entry.model_copy(update={"size": 12, "sha256": "2" * 64})])  # written again
    other = entry.model_copy(update={"kind": "dawproject", "path": "stems/Song.dawproject"})
    update_sessions(written, [other])
    back = read_manifest(written)  # still a manifest any reader takes, the rest as it was
    assert [(s.path, s.size) for s in back.sessions] == [("stems/Song.rpp", 12), ("stems/Song.dawproject", 10)]
    assert back.model_copy(update={"sessions": []}) == manifest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Test Song - BS Roformer (mvsep).json", "stems"]


def test_a_manifest_shown_without_server_paths_keeps_everything_else() -> None:
    from mvsep_mcp.media.manifest import without_server_paths

    original = {"schema_version": 1, "input": {"path": "/srv/users/ab12/in/Song.flac", "name": "Song.flac"},
                "outputs": [{"stem": "vocals", "path": "Song (vocals).flac", "absolute_path": "/srv/users/ab12/Song "
                             "(vocals).flac", "size": 3, "sha256": "00"}],
                "sessions": [{"kind": "rpp", "path": "Song.rpp", "absolute_path": "/srv/users/ab12/Song.rpp",
                              "stems": [{"job_id": "j1", "stem": "vocals", "path": "Song (vocals).flac"}]}]}
    shown = json.loads(without_server_paths(json.dumps(original).encode()))
    assert "/srv/" not in json.dumps(shown)
    assert shown["input"]["path"] == "Song.flac"
    assert shown["outputs"][0] == {"stem": "vocals", "path": "Song (vocals).flac", "size": 3, "sha256": "00"}
    assert shown["sessions"][0]["stems"] == original["sessions"][0]["stems"]
    url_input = {"input": {"path": "https://example.org/a.mp3", "name": "a.mp3"}}
    assert json.loads(without_server_paths(json.dumps(url_input).encode())) == url_input
    assert without_server_paths(b"not json") == b"not json"
