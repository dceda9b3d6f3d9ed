"""A caller's jobs and their files as what was typed could mean (for completing ``job_id``, ``stem``, ``name``).

```python
job_ids(records, "j7f")       # ids starting with it (newest first), then jobs whose song's file name contains it
stems(record, "vo", "flac")   # ["Vocals"]: the job's saved stems, only its .flac files
sessions(record, "", "rpp")   # the names of its DAW session files of that kind
```
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePath

from mvsep_mcp.jobs.models import JobRecord
from mvsep_mcp.matching import ranked


def job_ids(records: Iterable[JobRecord], typed: str) -> list[str]:
    """The ids of ``records`` (newest first, one account's) that ``typed`` may mean: by id, else by the input's name."""
    records = list(records)
    by_id = ranked([r.id for r in records], typed)
    wanted = typed.strip().casefold()
    by_song = [r.id for r in records if wanted and wanted in _song(r).casefold()]
    return list(dict.fromkeys(by_id + by_song))


def stems(record: JobRecord, typed: str, ext: str | None = None) -> list[str]:
    """The stems ``record`` has saved (those whose file has extension ``ext``, when given) that ``typed`` may mean."""
    saved = [o.stem for o in record.outputs if ext is None or _ext(o.path) == ext.lower()]
    return ranked(saved, typed)


def sessions(record: JobRecord, typed: str, kind: str | None = None) -> list[str]:
    """The names (without extension) of ``record``'s DAW session files (of ``kind``: dawproject, rpp)."""
    names = [PurePath(p).stem for p in record.sessions if kind is None or _ext(p) == kind.lower()]
    return ranked(names, typed)


def _ext(path: str) -> str:
    return PurePath(path).suffix.lstrip(".").lower()


def _song(record: JobRecord) -> str:
    spec = record.spec
    source = spec.input_path or spec.target_path or spec.url or ""
    return PurePath(source).name
