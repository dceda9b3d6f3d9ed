"""A caller's jobs and their files as what was typed may mean: ids first, then the song; a job's stems and sessions."""

from __future__ import annotations

from mvsep_mcp.jobs.models import JobRecord, JobSpec, OutputFile
from mvsep_mcp.jobs.suggestions import job_ids, sessions, stems


def record(job_id: str, song: str, outputs: tuple[str, ...] = (), session_files: tuple[str, ...] = ()) -> JobRecord:
    spec = JobSpec(account_key="a", base_url="http://x", input_path=f"/music/{song}", sep_type=20,
                   output_root="/out")
    files = [OutputFile(stem=name.split(".")[0], path=f"/out/{name}", size=1, sha256="0", url="http://x/f")
             for name in outputs]
    return JobRecord(id=job_id, spec=spec, created_at=0, updated_at=0, outputs=files, sessions=list(session_files))


def test_job_ids_by_id_then_by_song() -> None:
    records = [record("j1aa", "Blue Song.flac"), record("jb1b", "Red.flac"), record("j1cc", "Other.wav")]
    assert job_ids(records, "j1") == ["j1aa", "j1cc"]
    assert job_ids(records, "RED") == ["jb1b"]
    assert job_ids(records, "b1") == ["jb1b"]  # containing it, by id
    assert job_ids(records, "") == ["j1aa", "jb1b", "j1cc"]


def test_stems_of_a_job_narrowed_by_extension() -> None:
    job = record("j1", "Song.flac", outputs=("Vocals.flac", "Drums.flac", "Vocals.mp3", "Other.flac"))
    assert stems(job, "") == ["Vocals", "Drums", "Other"]
    assert stems(job, "o", "flac") == ["Other", "Vocals"]
    assert stems(job, "", "mp3") == ["Vocals"]
    assert stems(record("j2", "Song.flac"), "") == []


def test_sessions_of_a_job_by_kind() -> None:
    job = record("j1", "Song.flac", session_files=("/out/Song.dawproject", "/out/Song.rpp", "/out/Song (2).rpp"))
    assert sessions(job, "", "rpp") == ["Song", "Song (2)"]
    assert sessions(job, "song (", None) == ["Song (2)"]
