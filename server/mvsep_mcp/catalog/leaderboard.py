"""MVSep's quality-checker leaderboards as evidence: the catalogue's models ranked for a stem by their scores.

```python
boards = Leaderboards(session.any_client, cache_dir, base_url)       # each board cached like the catalogue
ranking = await recommend(catalog, boards.board, "vocals", account_kind="premium", limit=5)
ranking.metric, ranking.dataset                                        # "sdr_vocals", "Multisong (dataset 1)"
ranking.models[0].algorithm.render_id, ranking.models[0].options, ranking.models[0].score.value
```

**Which leaderboard and metric.** Each dataset of the quality checker scores some stems (``DATASETS``: MVSep's numbers;
0-4 as its API documents them, the rest as the sandbox numbers them). A stem is ranked by its SDR column
(``sdr_<stem>``, read from ``metrics[<stem>].sdr`` when the column is missing) on the first dataset that scores it,
the Multisong dataset (real songs) before the others; the stem's other metrics (bleedless, fullness, …) come along.
A leaderboard whose ``sortables`` lack the column, or that names no catalogue model, passes the stem to the next.

**Which model.** Entries name their algorithm in free text, written by whoever submitted them ("BS Roformer ver
2024.08"), while the catalogue names a family of models ("BS Roformer (vocals, instrumental)") whose variants are an
option ("ver 2024.08 (SDR vocals: 11.31, …)"). Names are compared as loose words (case, accents and punctuation
aside). An entry is a catalogue model when its name is the model's whole name, or starts with the model's name
without its parenthesised parts (the longest such name wins, and only when one model has it); when it says more, the
model's option whose label (without its parenthesised parts) the entry's name contains, the longest, is the variant
that scored, and the recommendation names it. Entries that match no model, or an inactive one, are left out and
counted. A model keeps its best entry.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, Field

from mvsep_mcp.catalog.access import AccountKind, access_label, can_use
from mvsep_mcp.catalog.cache import DiskCache, cache_path_for
from mvsep_mcp.catalog.errors import InvalidOption, NoEvidence
from mvsep_mcp.catalog.facts import is_active
from mvsep_mcp.catalog.options import resolve_options
from mvsep_mcp.catalog.pricing import estimate_cost
from mvsep_mcp.catalog.search import Catalog
from mvsep_mcp.catalog.text import loose
from mvsep_mcp.mvsep.models import Algorithm, Leaderboard, QualityEntry
from mvsep_mcp.policy import LEADERBOARD_MAX_PAGES, LEADERBOARD_PAGE_SIZE, LEADERBOARD_TTL_S

MULTISONG = 1
# the quality checker's datasets: MVSep's dataset_type -> (name, the stems its leaderboard scores)
DATASETS: dict[int, tuple[str, tuple[str, ...]]] = {
    0: ("Synth", ("vocals", "instrum")),
    1: ("Multisong", ("vocals", "instrum", "bass", "drums", "other")),
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
# what people call a stem -> the leaderboard's name for it
STEM_ALIASES = {"vocal": "vocals", "voice": "vocals", "instrumental": "instrum", "instruments": "instrum",
                "accompaniment": "instrum", "lead vocals": "lead", "back vocals": "back",
                "backing vocals": "back", "hi hat": "hh", "hihat": "hh", "hi-hat": "hh", "effects": "sfx",
                "fx": "sfx", "dialog": "speech", "dialogue": "speech", "male vocals": "male",
                "female vocals": "female", "string": "strings"}
PER_MINUTE_S = 60.0  # credits are quoted per minute of audio
_PARENTHESISED = re.compile(r"\([^)]*\)")


class Board(BaseModel):
    """One leaderboard as read (and cached): a dataset's entries sorted by one column, and the columns it sorts by."""

    dataset_type: int
    column: str
    entries: list[QualityEntry] = Field(default_factory=list)
    sortables: list[str] = Field(default_factory=list)
    fetched_at: float | None = None
    stale: bool = False


ReadBoard = Callable[[int, str], Awaitable[Board]]


def stem_key(stem: str) -> str:
    """The leaderboard's name for a stem ("Instrumental" -> "instrum"); refuses a stem no dataset scores."""
    word = loose(stem)
    key = STEM_ALIASES.get(word, word.replace(" ", ""))
    if not any(key in stems for _, stems in DATASETS.values()):
        known = sorted({s for _, stems in DATASETS.values() for s in stems})
        raise NoEvidence(f"The quality checker scores no stem called {stem!r}: ask for one of {', '.join(known)}, or "
                         f"use search_models to find models by what they make.")
    return key


def datasets_for(key: str) -> list[int]:
    """The datasets that score ``key``, the Multisong dataset first."""
    return sorted((d for d, (_, stems) in DATASETS.items() if key in stems), key=lambda d: (d != MULTISONG, d))


def dataset_name(dataset_type: int) -> str:
    return DATASETS.get(dataset_type, (f"dataset {dataset_type}", ()))[0]


@dataclass(frozen=True)
class Score:
    """One entry's result for one stem: the metric ranked by and the stem's other metrics."""

    entry: QualityEntry
    value: float
    metrics: dict[str, float]


def score_of(entry: QualityEntry, key: str) -> Score | None:
    """The entry's SDR for ``key`` (its ``sdr_<key>`` column, else ``metrics[key].sdr``) and the other metrics."""
    metrics = entry.metrics
    if isinstance(metrics, str):
        try:
            metrics = json.loads(metrics)
        except ValueError:
            metrics = None
    stem_metrics = metrics.get(key) if isinstance(metrics, dict) else None
    others = {str(k): float(v) for k, v in (stem_metrics or {}).items() if _number(v) is not None} \
        if isinstance(stem_metrics, dict) else {}
    value = entry.sdr.get(key)
    if value is None:
        value = others.get("sdr")
    if value is None:
        return None
    others.pop("sdr", None)
    return Score(entry, value, others)


def _number(value: Any) -> float | None:
    try:
        return float(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class Match:
    """A catalogue model an entry names, and the options of the variant it names (``{field label: key}``)."""

    algorithm: Algorithm
    options: dict[str, str] = field(default_factory=dict)


class NameIndex:
    """The catalogue's names as loose words, to read leaderboard entries by (see the module docstring)."""

    def __init__(self, catalog: Catalog) -> None:
        self._whole: dict[str, list[Algorithm]] = {}
        self._family: dict[str, list[Algorithm]] = {}
        for algorithm in catalog.algorithms:
            self._whole.setdefault(loose(algorithm.name), []).append(algorithm)
            family = loose(_PARENTHESISED.sub(" ", algorithm.name))
            if family:
                self._family.setdefault(family, []).append(algorithm)

    def match(self, name: str | None) -> Match | None:
        words = loose(name or "")
        if not words:
            return None
        whole = self._whole.get(words, [])
        if len(whole) == 1:
            return Match(whole[0])
        families = [f for f in self._family if words == f or words.startswith(f + " ")]
        if not families:
            return None
        family = max(families, key=len)
        if len(self._family[family]) != 1:
            return None  # two models share the name: the entry cannot say which
        algorithm = self._family[family][0]
        return Match(algorithm, variant(algorithm, words) if words != family else {})


def variant(algorithm: Algorithm, name: str) -> dict[str, str]:
    """The option whose label (without its parenthesised parts) an entry's name contains, the longest."""
    best: tuple[int, str, str] | None = None
    padded = f" {name} "
    for fld in algorithm.algorithm_fields:
        if fld.input_type != "select":
            continue
        for key, label in fld.options.items():
            words = loose(_PARENTHESISED.sub(" ", label))
            if len(words) >= 3 and f" {words} " in padded and (best is None or len(words) > best[0]):
                best = (len(words), fld.text or fld.name, key)
    return {best[1]: best[2]} if best else {}


@dataclass(frozen=True)
class Recommended:
    """A model as recommended: its best entry's score, the variant's options, its access and price."""

    algorithm: Algorithm
    options: dict[str, str]
    score: Score
    access: str
    usable: bool
    credits_per_minute: int


@dataclass(frozen=True)
class Ranking:
    """The models for a stem, best first, and what they were ranked by."""

    stem: str
    metric: str  # the leaderboard's column, e.g. sdr_vocals
    dataset_type: int
    models: list[Recommended]
    matched: int  # catalogue models the leaderboard scores (before max_credits and limit)
    unmatched: int  # scored entries naming no (active) catalogue model
    stale: bool = False

    @property
    def dataset(self) -> str:
        return f"{dataset_name(self.dataset_type)} (dataset {self.dataset_type})"


async def recommend(catalog: Catalog, read_board: ReadBoard, stem: str, *, account_kind: AccountKind | None,
                    max_credits: float | None = None, limit: int = 5) -> Ranking:
    """The catalogue's models for ``stem``, ranked on the first of its datasets whose leaderboard has the stem's
    column and scores a catalogue model (see the module docstring)."""
    key = stem_key(stem)
    column = f"sdr_{key}"
    for dataset_type in datasets_for(key):
        board = await read_board(dataset_type, column)
        if board.sortables and column not in board.sortables:
            continue
        ranking = rank(catalog, board, key, account_kind=account_kind, max_credits=max_credits, limit=limit)
        if ranking.matched:
            return ranking
    raise NoEvidence(f"The quality checker has no scores of a catalogue model for {stem} yet: use search_models "
                     f"with stem={stem!r} to choose by users' ratings instead.")


def rank(catalog: Catalog, board: Board, key: str, *, account_kind: AccountKind | None,
         max_credits: float | None = None, limit: int = 5) -> Ranking:
    """The catalogue's active models that ``board`` scores for ``key``, best first: each with its best entry, the
    variant it names, its access for ``account_kind`` and credits per minute; ``max_credits`` leaves out dearer ones."""
    index = NameIndex(catalog)
    best: dict[int, Recommended] = {}
    unmatched = 0
    for entry in board.entries:
        score = score_of(entry, key)
        if score is None:
            continue
        match = index.match(entry.algo_name)
        if match is None or not is_active(match.algorithm):
            unmatched += 1
            continue
        known = best.get(match.algorithm.render_id)
        if known is None or score.value > known.score.value:
            best[match.algorithm.render_id] = _recommended(match, score, account_kind)
    ranked = sorted(best.values(), key=lambda r: r.score.value, reverse=True)
    matched = len(ranked)
    if max_credits is not None:
        ranked = [r for r in ranked if r.credits_per_minute <= max_credits]
    return Ranking(stem=key, metric=board.column, dataset_type=board.dataset_type, models=ranked[:limit],
                   matched=matched, unmatched=unmatched, stale=board.stale)


def _recommended(match: Match, score: Score, account_kind: AccountKind | None) -> Recommended:
    algorithm = match.algorithm
    try:
        options = resolve_options(algorithm, match.options, account_kind=account_kind)
    except InvalidOption:  # the variant is for other accounts: priced with the defaults
        options = resolve_options(algorithm, {}, account_kind=account_kind)
    return Recommended(algorithm=algorithm, options=match.options, score=score, access=access_label(algorithm),
                       usable=can_use(algorithm, account_kind),
                       credits_per_minute=estimate_cost(algorithm, options, PER_MINUTE_S).credits)


async def read_leaderboard(page: Callable[[int, int], Awaitable[Leaderboard]], dataset_type: int, column: str, *,
                           page_size: int, max_pages: int) -> Board:
    """A dataset's leaderboard sorted by ``column``, best first, up to ``max_pages`` pages of ``page_size``
    (``page(start, limit)`` is the client's ``quality_leaderboard`` for that dataset and column)."""
    entries: list[QualityEntry] = []
    sortables: list[str] = []
    for number in range(max_pages):
        board = await page(number * page_size, page_size)
        entries.extend(board.data)
        if isinstance(board.sortables, list | dict):  # MVSep documents a list of columns; an object's keys too
            sortables = [str(s) for s in board.sortables]
        if len(board.data) < page_size:
            break
    return Board(dataset_type=dataset_type, column=column, entries=entries, sortables=sortables)


class Leaderboards:
    """The leaderboards read so far, each cached like the catalogue (a file per base URL, dataset and column;
    ``LEADERBOARD_TTL_S``; served stale when MVSep cannot be reached). ``client()`` gives the client to read with."""

    def __init__(self, client: Callable[[], LeaderboardClient], cache_dir: Path | None, base_url: str, *,
                 ttl: float = LEADERBOARD_TTL_S, clock: Callable[[], float] = time.time) -> None:
        self._client, self._cache_dir, self._base_url = client, cache_dir, base_url
        self._ttl, self._clock = ttl, clock
        self._caches: dict[tuple[int, str], DiskCache[Board, Board]] = {}

    async def board(self, dataset_type: int, column: str) -> Board:
        cache = self._caches.get((dataset_type, column))
        if cache is None:

            async def fetch() -> Board:
                def page(start: int, limit: int) -> Awaitable[Leaderboard]:
                    return self._client().quality_leaderboard(dataset_type=dataset_type, start=start, limit=limit,
                                                              sort=column)
                return await read_leaderboard(page, dataset_type, column, page_size=LEADERBOARD_PAGE_SIZE,
                                              max_pages=LEADERBOARD_MAX_PAGES)

            path = cache_path_for(self._base_url, self._cache_dir, kind=f"leaderboard-{dataset_type}-{column}")
            cache = DiskCache(fetch, path, key="board", ttl=self._ttl, clock=self._clock, base_url=self._base_url,
                              dump=lambda board: board.model_dump(mode="json"), load=Board.model_validate,
                              build=lambda board, at, stale: board.model_copy(update={"fetched_at": at,
                                                                                      "stale": stale}))
            self._caches[(dataset_type, column)] = cache
        return await cache.get()


class LeaderboardClient(Protocol):
    """What reading a leaderboard needs of the MVSep client."""

    def quality_leaderboard(self, dataset_type: int = 0, start: int = 0, limit: int = 20,
                            algo_name_filter: str | None = None, sort: str | None = None) -> Awaitable[Leaderboard]:
        ...
