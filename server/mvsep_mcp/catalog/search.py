"""The catalogue of MVSep models as the product uses it: search, lookup, groups, stems, details.

`Catalog` is an immutable view over a list of `Algorithm`s (one fetch of `/app/algorithms`), with when it was
fetched and whether it is a stale copy served because MVSep could not be reached.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

from mvsep_mcp.mvsep.models import Algorithm
from mvsep_mcp.policy import CATALOG_FUZZY_CUTOFF, CATALOG_SUGGESTIONS

from .access import AccountKind, can_use
from .describe import ModelDetails, describe
from .errors import UnknownModel
from .facts import (
    group_name,
    is_active,
    output_keys,
    output_labels,
    rating_score,
    short_description,
    usage,
)
from .text import fold, loose, words

SortKey = Literal["rating", "usage", "name", "price"]


@dataclass(frozen=True)
class SearchPage:
    """One page of search results; `total` counts every match, `next_offset` is None on the last page."""

    items: list[Algorithm]
    total: int
    offset: int
    limit: int

    @property
    def next_offset(self) -> int | None:
        end = self.offset + len(self.items)
        return end if end < self.total else None

    def __iter__(self) -> Iterator[Algorithm]:
        return iter(self.items)


def haystack(algorithm: Algorithm) -> str:
    """What a text search looks in: name, group, short description and output labels, folded and loose."""
    parts = [algorithm.name, group_name(algorithm), short_description(algorithm), *output_labels(algorithm)]
    return fold(" ".join(parts)) + " " + loose(" ".join(parts))


def similarity(wanted: str, algorithm: Algorithm) -> float:
    """How close ``wanted`` (``loose`` already) is to the model's name, 0 to 1 (difflib's ratio)."""
    name = loose(algorithm.name)
    whole = difflib.SequenceMatcher(None, wanted, name).ratio()
    # "bs roformr" against "bs roformer vocals instrumental": compare with the name's head too
    head = " ".join(name.split()[: max(1, len(wanted.split()))])
    return max(whole, difflib.SequenceMatcher(None, wanted, head).ratio())


def _group_matches(wanted: str, name: str) -> bool:
    wanted_words = words(wanted)
    name_loose = loose(name)
    return bool(wanted_words) and all(w in name_loose for w in wanted_words)


def _stem_matches(wanted: str, algorithm: Algorithm) -> bool:
    target = loose(wanted)
    if not target:
        return False
    for candidate in {loose(s) for s in (*output_keys(algorithm), *output_labels(algorithm))}:
        if candidate.startswith(target) or target == candidate + "s":  # "drum" ~ "drums", "vocals" ~ "vocal"
            return True
    return False


@dataclass(frozen=True)
class Catalog:
    algorithms: Sequence[Algorithm]
    fetched_at: float | None = None  # seconds since the epoch
    stale: bool = False
    _by_render_id: dict[int, Algorithm] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_render_id", {a.render_id: a for a in self.algorithms})

    def __len__(self) -> int:
        return len(self.algorithms)

    # --- search -------------------------------------------------------------------------------------

    def search(
        self,
        text: str | None = None,
        group: str | None = None,
        stem: str | None = None,
        sort: SortKey = "rating",
        include_inactive: bool = False,
        account_kind: AccountKind | None = None,
        usable_only: bool = False,
        limit: int = 20,
        offset: int = 0,
    ) -> SearchPage:
        """Models matching every criterion given, sorted, one page of them.

        text: every word must appear in the name, group, short description or output labels (case/accents ignored).
        group: the group name, loosely ("vocals" matches "Vocals / Instrumental").
        stem: an output stem key or label ("drums", "Bass", "instrumental").
        sort: "rating" (Bayesian average, best first), "usage" (most used first), "name", "price" (cheapest first).
        usable_only: keep only models `account_kind` may use (None counts as anonymous).
        """
        matches = [a for a in self.algorithms if include_inactive or is_active(a)]
        if text and words(text):
            needles = words(text)
            matches = [a for a in matches if all(n in haystack(a) for n in needles)]
        if group and group.strip():
            matches = [a for a in matches if _group_matches(group, group_name(a))]
        if stem and stem.strip():
            matches = [a for a in matches if _stem_matches(stem, a)]
        if usable_only:
            matches = [a for a in matches if can_use(a, account_kind)]
        matches.sort(key=_SORTS.get(sort, _SORTS["rating"]))
        limit = max(1, limit)  # no ceiling here: tools cap their page size, resources may list everything
        offset = max(0, offset)
        return SearchPage(items=matches[offset : offset + limit], total=len(matches), offset=offset, limit=limit)

    # --- lookup -------------------------------------------------------------------------------------

    def find(self, model: str | int) -> Algorithm:
        """By render_id (int or digits), exact name (case-insensitive), then a unique partial or fuzzy name.

        Raises UnknownModel naming up to CATALOG_SUGGESTIONS closest models with their render_ids.
        """
        if isinstance(model, int) and not isinstance(model, bool):
            found = self._by_render_id.get(model)
            if found is not None:
                return found
            raise self._unknown(str(model))
        query = str(model).strip()
        if query.isdigit() and int(query) in self._by_render_id:
            return self._by_render_id[int(query)]
        if not query:
            raise self._unknown(query)
        folded, wanted = fold(query), loose(query)
        exact: list[Callable[[Algorithm], bool]] = [
            lambda a: fold(a.name) == folded,
            lambda a: loose(a.name) == wanted,
            # "BS Roformer" is the name of "BS Roformer (vocals, instrumental)" before its stem list
            lambda a: loose(a.name.split(" (", 1)[0]) == wanted,
        ]
        for matcher in exact:
            found_all = [a for a in self.algorithms if matcher(a)]
            if len(found_all) == 1:
                return found_all[0]
        candidates: list[Algorithm] = []
        if wanted:
            query_words = wanted.split()
            partial: list[Callable[[Algorithm], bool]] = [
                lambda a: wanted in loose(a.name),
                lambda a: all(w in loose(a.name).split() for w in query_words),
                lambda a: all(w in loose(a.name) for w in query_words),
            ]
            for matcher in partial:
                candidates = [a for a in self.algorithms if matcher(a)]
                if len(candidates) == 1:
                    return candidates[0]
                if candidates:
                    break
        if not candidates:
            scored = sorted(((similarity(wanted, a), a) for a in self.algorithms), key=lambda p: -p[0])
            good = [a for score, a in scored if score >= CATALOG_FUZZY_CUTOFF]
            if len(good) == 1:
                return good[0]
        raise self._unknown(query, candidates)

    def _unknown(self, query: str, candidates: Sequence[Algorithm] = ()) -> UnknownModel:
        wanted = loose(query)
        ranked = sorted(self.algorithms, key=lambda a: (-similarity(wanted, a), -usage(a), a.name))
        pool = list(candidates) if candidates else ranked
        if candidates:
            pool.sort(key=lambda a: (-similarity(wanted, a), -usage(a), a.name))
        suggestions = [(a.name, a.render_id) for a in pool[:CATALOG_SUGGESTIONS]]
        listed = "; ".join(f"{name} (render_id {rid})" for name, rid in suggestions)
        if candidates:
            message = (
                f'"{query}" matches {len(candidates)} models: {listed}. '
                "Give the render_id or the full name, or search the catalogue to narrow it down."
            )
        else:
            message = (
                f'No model matches "{query}". Closest: {listed}. '
                "Give one of these render_ids, or search the catalogue by name, group or stem."
            )
        return UnknownModel(message, query=query, suggestions=suggestions)

    # --- summaries ----------------------------------------------------------------------------------

    def groups(self, include_inactive: bool = False) -> list[tuple[str, int]]:
        """(group name, number of models), most populated first."""
        counts = Counter(group_name(a) for a in self.algorithms if include_inactive or is_active(a))
        counts.pop("", None)
        return sorted(counts.items(), key=lambda p: (-p[1], p[0]))

    def stems(self, include_inactive: bool = False) -> list[tuple[str, int]]:
        """(output label, number of models producing it), most common first; labels compared case-insensitively."""
        counts: Counter[str] = Counter()
        spelling: dict[str, str] = {}
        for algorithm in self.algorithms:
            if not (include_inactive or is_active(algorithm)):
                continue
            for label in dict.fromkeys(loose(x) for x in output_labels(algorithm)):
                counts[label] += 1
            for label in output_labels(algorithm):
                spelling.setdefault(loose(label), label)
        return sorted(((spelling[k], n) for k, n in counts.items() if k), key=lambda p: (-p[1], p[0].casefold()))

    def describe(self, algorithm: Algorithm | str | int) -> ModelDetails:
        """Details of a model (an Algorithm, or anything `find` accepts)."""
        if not isinstance(algorithm, Algorithm):
            algorithm = self.find(algorithm)
        return describe(algorithm)


_SORTS: dict[str, Callable[[Algorithm], tuple[object, ...]]] = {
    "rating": lambda a: (-rating_score(a), -usage(a), fold(a.name)),
    "usage": lambda a: (-usage(a), -rating_score(a), fold(a.name)),
    "name": lambda a: (fold(a.name), a.render_id),
    "price": lambda a: (float(getattr(a, "price_coefficient", 1) or 1), -rating_score(a), -usage(a), fold(a.name)),
}
