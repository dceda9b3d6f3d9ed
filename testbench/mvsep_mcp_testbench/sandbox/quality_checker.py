"""The sandbox quality checker: submissions (zip files), a processing queue driven by the clock, leaderboards.

An entry is ``proc`` 0 (in the queue) until ``quality_s`` after it was added, then 1 (processed, ``msg`` "OK", metrics
and ``sdr_<stem>`` filled in, listed on its dataset's leaderboard) or 2 (``msg`` an error: not a zip archive).
Metrics are derived from the zip's bytes so that one submission always scores the same.

The leaderboards start with entries for the sandbox's own models (``data/leaderboard.json``: fixed scores, names as
submitters write them, one service the catalogue lacks), so that recommending models by evidence works offline.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import json
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mvsep_mcp_testbench.sandbox.mvsep_names import date_text

DATASETS: dict[int, tuple[str, tuple[str, ...]]] = {
    0: ("Synth", ("vocals", "instrum")),
    1: ("Multi", ("vocals", "instrum", "bass", "drums", "other")),
    2: ("Piano", ("piano", "other")),
    3: ("Lead/Back vocals", ("lead", "back")),
    4: ("Guitar", ("guitar", "other")),
    5: ("Medley Vox", ("singer1", "singer2")),
    6: ("Strings", ("strings", "other")),
    7: ("Wind", ("wind", "other")),
    8: ("Drums", ("kick", "snare", "toms", "hh", "cymbals")),
    9: ("Bass", ("bass", "other")),
    10: ("Organ", ("organ", "other")),
    11: ("DnR v3", ("speech", "music", "sfx")),
    12: ("Male/Female", ("male", "female")),
}
FIRST_ENTRY_ID = 7700
SEEDED_FILE = Path(__file__).parent / "data" / "leaderboard.json"
FIRST_SEEDED_ID = 1200  # the seeded entries' ids, below every submission's


@dataclass
class QualityEntry:
    id: int
    dataset_type: int
    created_at: float
    algo_name: str
    main_text: str
    password: str
    ensemble: int
    token: str
    digest: str
    valid_zip: bool
    scores: dict[str, dict[str, float]] | None = None  # a seeded entry's fixed metrics per stem

    def view(self, now: float, quality_s: float) -> dict[str, Any]:
        name, stems = DATASETS.get(self.dataset_type, DATASETS[0])
        processed = now - self.created_at >= quality_s
        out: dict[str, Any] = {
            "id": self.id,
            "dataset_type": self.dataset_type,
            "date": date_text(self.created_at),
            "algo_name": self.algo_name,
            "main_text": self.main_text,
            "ensemble": self.ensemble,
            "proc": 0,
            "proc_remote_date": None,
            "msg": None,
            "metrics": None,
        }
        for stem in stems:
            out[f"sdr_{stem}"] = None
        if processed:
            out["proc_remote_date"] = date_text(self.created_at + quality_s)
            if not self.valid_zip:
                out.update(proc=2, msg="Error: the uploaded file is not a valid zip archive")
            else:
                metrics = {stem: self.scores.get(stem) if self.scores is not None else self._metrics(stem)
                           for stem in stems}
                out.update(proc=1, msg="OK", metrics=metrics)
                for stem in stems:
                    out[f"sdr_{stem}"] = (metrics[stem] or {}).get("sdr")
        out["dataset_name"] = name
        return out

    def _metrics(self, stem: str) -> dict[str, float]:
        seed = int(hashlib.sha256(f"{self.digest}:{stem}".encode()).hexdigest()[:8], 16)
        sdr = 6.0 + (seed % 800) / 100.0
        return {"sdr": round(sdr, 4), "l1_freq": round(40 + (seed >> 10) % 3000 / 100.0, 4),
                "bleedless": round(20 + (seed >> 14) % 2000 / 100.0, 4),
                "fullness": round(10 + (seed >> 18) % 2000 / 100.0, 4)}


def seeded_entries(path: Path = SEEDED_FILE) -> dict[int, QualityEntry]:
    """The leaderboards' starting entries (processed long ago, never deletable: no password matches)."""
    entries = {}
    for number, item in enumerate(json.loads(path.read_text(encoding="utf-8"))):
        added = calendar.timegm(time.strptime(item["date"], "%Y-%m-%d %H:%M:%S"))
        entry = QualityEntry(FIRST_SEEDED_ID + number, int(item["dataset_type"]), float(added), item["algo_name"],
                             item["main_text"], password="", ensemble=0, token="", digest="", valid_zip=True,
                             scores=item["metrics"])
        entries[entry.id] = entry
    return entries


@dataclass
class QualityBook:
    entries: dict[int, QualityEntry] = field(default_factory=seeded_entries)
    next_id: int = FIRST_ENTRY_ID
    lock: threading.RLock = field(default_factory=threading.RLock)

    def add(self, *, data: bytes, algo_name: str, main_text: str, dataset_type: int, ensemble: int, password: str,
            token: str, now: float) -> QualityEntry:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                valid = archive.testzip() is None
        except zipfile.BadZipFile:
            valid = False
        with self.lock:
            entry = QualityEntry(self.next_id, dataset_type, now, algo_name, main_text, password, ensemble, token,
                                 hashlib.sha256(data).hexdigest(), valid)
            self.entries[entry.id] = entry
            self.next_id += 1
        return entry

    def delete(self, entry_id: int, password: str) -> bool | None:
        """True when deleted, False for a wrong password, None when there is no such entry."""
        with self.lock:
            entry = self.entries.get(entry_id)
            if entry is None:
                return None
            if not entry.password or entry.password != password:
                return False
            del self.entries[entry_id]
            return True

    def queue(self, now: float, quality_s: float, start: int, limit: int) -> list[dict[str, Any]]:
        newest = sorted(self.entries.values(), key=lambda e: e.id, reverse=True)
        return [e.view(now, quality_s) for e in newest[start : start + limit]]

    def leaderboard(self, now: float, quality_s: float, dataset_type: int, start: int, limit: int,
                    name_filter: str | None, sort: str | None) -> dict[str, Any]:
        _, stems = DATASETS.get(dataset_type, DATASETS[0])
        sortables = [f"sdr_{s}" for s in stems]
        key = sort if sort in sortables else sortables[0]
        rows = [e.view(now, quality_s) for e in self.entries.values() if e.dataset_type == dataset_type]
        rows = [r for r in rows if r["proc"] == 1]
        if name_filter:
            rows = [r for r in rows if name_filter.lower() in str(r["algo_name"]).lower()]
        rows.sort(key=lambda r: r[key] or 0.0, reverse=True)
        return {"data": rows[start : start + limit], "dataset_type": dataset_type, "sortables": sortables, "sort": key}
