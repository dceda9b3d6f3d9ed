"""Session files in their jobs' records: each job whose stems a session uses lists it in its manifest, by path."""

from __future__ import annotations

from pathlib import Path

from mvsep_mcp.jobs.models import JobRecord
from mvsep_mcp.media.files import sha256_file
from mvsep_mcp.media.manifest import read_manifest, write_manifest
from mvsep_mcp.results.recorded import jobs_of, record_in_manifests, session_kind, with_sessions
from mvsep_mcp.results.sessions import StemPick, sessions_from_jobs

from tests.media.test_manifest import build
from tests.results.test_sessions import jobs, song  # noqa: F401  (the fixture)


def with_manifest(record: JobRecord, folder: Path, root: Path) -> JobRecord:
    """``record`` as completed with its manifest in ``folder`` and its output folder ``root``."""
    manifest = write_manifest(folder, build(folder / "unused"))
    spec = record.spec.model_copy(update={"output_root": str(root)})
    return record.model_copy(update={"manifest_path": str(manifest), "spec": spec})


def test_each_job_of_a_session_lists_it_in_its_manifest(song: dict[str, Path], tmp_path: Path) -> None:  # noqa: F811
    records = jobs(song)
    a = with_manifest(records["a"], song["a_vocals"].parent, tmp_path / "out")
    b = with_manifest(records["b"], tmp_path / "out" / "elsewhere", tmp_path / "out")
    written = sessions_from_jobs([a, b], [StemPick("ja", "Vocals"), StemPick("jb", "Drums")])
    assert [r.id for r in jobs_of(written)] == ["ja", "jb"]
    assert record_in_manifests(written) == [Path(a.manifest_path or ""), Path(b.manifest_path or "")]

    here = read_manifest(Path(a.manifest_path or "")).sessions
    assert [(s.kind, s.path) for s in here] == [("dawproject", "Café Song.dawproject"), ("rpp", "Café Song.rpp")]
    for entry, path in zip(here, written.paths, strict=True):
        assert entry.absolute_path == str(path) and entry.size == path.stat().st_size
        assert entry.sha256 == sha256_file(path)
        assert [(s.job_id, s.stem, s.path) for s in entry.stems] == [("ja", "Vocals", "a_vocals.flac"),
                                                                    ("jb", "Drums", "b_drums.flac")]
        assert entry.mix == "../../in/Café Song.flac"
    there = read_manifest(Path(b.manifest_path or "")).sessions  # relative to its own folder
    assert [s.path for s in there] == ["../Artist - Café Song/Café Song.dawproject",
                                       "../Artist - Café Song/Café Song.rpp"]
    assert (Path(b.manifest_path or "").parent / there[0].path).resolve() == written.paths[0].resolve()


def test_a_session_written_again_updates_its_entry(song: dict[str, Path], tmp_path: Path) -> None:  # noqa: F811
    a = with_manifest(jobs(song)["a"], song["a_vocals"].parent, tmp_path / "out")
    first = sessions_from_jobs([a], [StemPick("ja")], ["rpp"])
    record_in_manifests(first)
    first.paths[0].unlink()  # gone, then written again under the same name, with other stems
    again = sessions_from_jobs([a], [StemPick("ja", "Vocals")], ["rpp"])
    assert again.paths == first.paths
    record_in_manifests(again)
    [entry] = read_manifest(Path(a.manifest_path or "")).sessions
    assert [s.stem for s in entry.stems] == ["Vocals"] and entry.sha256 == sha256_file(again.paths[0])
    assert with_sessions(a.model_copy(update={"sessions": [str(first.paths[0])]}),
                         [str(again.paths[0]), "x.rpp"]) == [str(first.paths[0]), "x.rpp"]


def test_no_manifest_outside_the_output_folder_is_written(song: dict[str, Path], tmp_path: Path) -> None:  # noqa: F811
    a = with_manifest(jobs(song)["a"], song["a_vocals"].parent, tmp_path / "somewhere else")
    before = Path(a.manifest_path or "").read_bytes()
    unrecorded = jobs(song)["b"]  # no manifest (yet): only its journal row lists the session
    written = sessions_from_jobs([a, unrecorded], [StemPick("ja"), StemPick("jb")], ["rpp"])
    assert record_in_manifests(written) == []
    assert Path(a.manifest_path or "").read_bytes() == before
    assert session_kind(written.paths[0]) == "rpp" and session_kind(Path("x.wav")) is None
