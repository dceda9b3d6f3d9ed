"""The output folder's disk: room against the announced sizes, and the disk's refusals as one sentence."""

from __future__ import annotations

import errno
from pathlib import Path

import mutagen
import pytest
from mvsep_mcp.hosted.presenting import Presenter
from mvsep_mcp.jobs import JobRecord, JobSpec, disk
from mvsep_mcp.jobs.errors import CannotSave


def record(root: Path) -> JobRecord:
    spec = JobSpec(account_key="a", base_url="http://127.0.0.1:9/api", sep_type=27, output_root=str(root))
    return JobRecord(id="j1", spec=spec, created_at=0.0, updated_at=0.0)


def test_the_room_needed_comes_from_the_readable_size_texts() -> None:
    assert disk.needed_bytes(["5.84 MB", None, "nonsense", "1 KB"]) == int(5.84 * 2**20) + 1024
    assert disk.needed_bytes([None, "?"]) is None
    assert [disk.size_words(n) for n in (900, 152_203, 8_400_000, 3_200_000_000)] == [
        "900 bytes", "152 kB", "8.4 MB", "3.2 GB"]


def test_room_is_checked_on_the_nearest_existing_folder(tmp_path: Path) -> None:
    job = record(tmp_path / "not" / "yet" / "there")
    assert disk.free_bytes(tmp_path / "not" / "yet") == disk.free_bytes(tmp_path)
    assert disk.room_problem(job, None) is None and disk.room_problem(job, 1) is None
    problem = disk.room_problem(job, 10**18)
    assert isinstance(problem, CannotSave) and problem.message.startswith(
        f"The output folder is out of space ({tmp_path / 'not' / 'yet' / 'there'}; this job's files need about")


def test_the_disks_refusal_is_found_behind_the_errors_that_wrap_it(tmp_path: Path) -> None:
    try:
        try:
            raise OSError(errno.EDQUOT, "Disk quota exceeded")
        except OSError as exc:
            raise mutagen.MutagenError(exc) from exc
    except mutagen.MutagenError as wrapped:
        said = disk.save_problem(wrapped, record(tmp_path), None)
    assert said is not None and said.message.startswith("The disk quota of the output folder is used up (")
    assert disk.save_problem(OSError(errno.EIO, "I/O error"), record(tmp_path), None) is None
    assert disk.save_problem(ValueError("not a disk"), record(tmp_path), None) is None


@pytest.mark.parametrize("code", sorted(disk.DISK_ERRNOS))
def test_a_hosted_user_sees_their_folder_never_the_servers_path(code: int) -> None:
    root = Path("/srv/mvsep/users/u1")
    said = disk.save_problem(OSError(code, "refused"), record(root), 4_200_000)
    assert said is not None
    shown = Presenter(root=root, user_key="u1", signer=None).text(said.message)  # type: ignore[arg-type]
    assert "/srv" not in shown and "(your folder" in shown and shown.endswith("without a new job or credits.")
