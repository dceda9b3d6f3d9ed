"""Leaderboard entries read as evidence: stems named, entries mapped to catalogue models (and variants), ranked by
the stem's SDR with access and price, the right dataset chosen, boards cached like the catalogue."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from mvsep_mcp.catalog import Catalog, NoEvidence, recommend
from mvsep_mcp.catalog.leaderboard import (
    Board,
    Leaderboards,
    NameIndex,
    datasets_for,
    rank,
    score_of,
    stem_key,
)
from mvsep_mcp.mvsep.errors import ConnectError
from mvsep_mcp.mvsep.models import Leaderboard, QualityEntry


def entry(name: str, entry_id: int = 1, **scores: Any) -> QualityEntry:
    return QualityEntry.model_validate({"id": entry_id, "algo_name": name, "proc": 1,
                                        **{f"sdr_{k}": v for k, v in scores.items()}})


def board(*entries: QualityEntry, dataset: int = 1, column: str = "sdr_vocals",
          sortables: list[str] | None = None) -> Board:
    return Board(dataset_type=dataset, column=column, entries=list(entries),
                 sortables=sortables if sortables is not None else [column])


@pytest.mark.parametrize("said, key", [("vocals", "vocals"), ("Instrumental", "instrum"), ("Hi-Hat", "hh"),
                                       ("drums", "drums"), ("Lead vocals", "lead"), ("effects", "sfx")])
def test_a_stem_is_named_as_the_leaderboard_names_it(said: str, key: str) -> None:
    assert stem_key(said) == key


def test_a_stem_no_dataset_scores_is_refused_naming_those_that_are() -> None:
    with pytest.raises(NoEvidence, match=r"scores no stem called 'banjo': ask for one of back, bass, .*vocals"):
        stem_key("banjo")


def test_the_multisong_dataset_comes_first() -> None:
    assert datasets_for("vocals") == [1, 0]
    assert datasets_for("bass") == [1, 9]
    assert datasets_for("piano") == [2]


@pytest.mark.parametrize("name, render_id, options", [
    ("BS Roformer (vocals, instrumental)", 40, {}),                      # the catalogue's whole name
    ("BS Roformer ver 2024.08", 40, {"Vocal model type": "29"}),         # the family, then the variant's label
    ("bs-roformer  VIPERX edition", 40, {"Vocal model type": "4"}),      # loose words
    ("BS Roformer SW", 63, {}),                                          # the longest family wins
    ("SCNet XL IHF", 46, {"Vocal model type": "5"}),                     # a variant label repeating the family
    ("Demucs4 HT htdemucs_ft", 20, {"Model type": "0"}),                 # the longest label ("htdemucs" too)
    ("MelBand Roformer (my own fine-tune)", 48, {}),                     # a family with nothing more known
])
def test_entries_are_read_as_catalogue_models(catalog: Catalog, name: str, render_id: int,
                                              options: dict[str, str]) -> None:
    match = NameIndex(catalog).match(name)
    assert match is not None and match.algorithm.render_id == render_id and match.options == options


@pytest.mark.parametrize("name", ["Lalal.ai Orion", "viperx BS Roformer", "Ensemble", "", None])
def test_entries_naming_no_single_model_are_not_guessed(catalog: Catalog, name: str | None) -> None:
    assert NameIndex(catalog).match(name) is None  # "Ensemble": three catalogue models share it


def test_a_score_comes_from_the_column_or_the_metrics() -> None:
    with_column = QualityEntry.model_validate({"algo_name": "x", "sdr_vocals": "11.5",
                                              "metrics": {"vocals": {"sdr": 11.5, "bleedless": 30.1}}})
    from_metrics = QualityEntry.model_validate({"algo_name": "x", "metrics": json.dumps({"vocals": {"sdr": 9.5}})})
    score = score_of(with_column, "vocals")
    assert score is not None and score.value == 11.5 and score.metrics == {"bleedless": 30.1}
    assert (s := score_of(from_metrics, "vocals")) is not None and s.value == 9.5
    assert score_of(entry("x", bass=12.0), "vocals") is None


def test_models_are_ranked_by_their_best_entry_with_access_and_price(catalog: Catalog) -> None:
    scored = board(entry("BS Roformer viperx edition", 1, vocals=10.87), entry("BS Roformer ver 2024.08", 2,
                   vocals=11.31), entry("Ensemble (vocals, instrum)", 3, vocals=11.2),
                   entry("Lalal.ai Orion", 4, vocals=12.0), entry("MVSep MelBand Roformer (vocals, instrum)", 5,
                                                                   vocals=13.0), entry("Demucs4 HT", 6, bass=12.0))
    ranking = rank(catalog, scored, "vocals", account_kind="registered")
    assert [(m.algorithm.render_id, m.score.value) for m in ranking.models] == [(40, 11.31), (26, 11.2)]
    best, ensemble = ranking.models
    assert best.options == {"Vocal model type": "29"} and best.usable and best.credits_per_minute == 1
    assert ensemble.access == "premium only" and not ensemble.usable and ensemble.credits_per_minute == 2
    assert ranking.unmatched == 2  # Lalal.ai, and the inactive MVSep MelBand Roformer
    assert ranking.metric == "sdr_vocals" and ranking.dataset == "Multisong (dataset 1)"
    cheap = rank(catalog, scored, "vocals", account_kind="premium", max_credits=1)
    assert [m.algorithm.render_id for m in cheap.models] == [40] and cheap.matched == 2
    assert len(rank(catalog, scored, "vocals", account_kind=None, limit=1).models) == 1


async def test_the_first_dataset_with_the_column_and_a_catalogue_model_is_used(catalog: Catalog) -> None:
    asked: list[tuple[int, str]] = []
    boards = {1: board(entry("Lalal.ai Orion", vocals=12.0)),  # no catalogue model: the next dataset
              0: board(entry("MDX B", vocals=9.0), dataset=0)}

    async def read(dataset: int, column: str) -> Board:
        asked.append((dataset, column))
        return boards[dataset]

    ranking = await recommend(catalog, read, "vocals", account_kind=None)
    assert asked == [(1, "sdr_vocals"), (0, "sdr_vocals")]
    assert ranking.dataset_type == 0 and ranking.models[0].algorithm.render_id == 23

    boards[1] = board(entry("MDX B", vocals=9.0), sortables=["sdr_bass"])  # the column is not on this board
    asked.clear()
    assert (await recommend(catalog, read, "vocals", account_kind=None)).dataset_type == 0
    boards[0] = board(dataset=0)
    with pytest.raises(NoEvidence, match="no scores of a catalogue model for vocals yet"):
        await recommend(catalog, read, "vocals", account_kind=None)


class FakeClient:
    def __init__(self, pages: list[list[QualityEntry]]) -> None:
        self.pages, self.calls, self.fail = pages, [], False

    async def quality_leaderboard(self, dataset_type: int = 0, start: int = 0, limit: int = 20,
                                  algo_name_filter: str | None = None, sort: str | None = None) -> Leaderboard:
        self.calls.append((dataset_type, start, limit, sort))
        if self.fail:
            raise ConnectError("MVSep is down")
        page = self.pages[start // limit] if start // limit < len(self.pages) else []
        return Leaderboard(data=page, sortables=["sdr_vocals", "sdr_instrum"])


async def test_boards_are_read_page_by_page_and_cached_on_disk(tmp_path: Path) -> None:
    full = [entry(f"Model {n}", n, vocals=20.0 - n) for n in range(100)]
    client = FakeClient([full, [entry("Last", 100, vocals=1.0)]])
    now = [1000.0]
    boards = Leaderboards(lambda: client, tmp_path, "http://127.0.0.1:9/api", ttl=60, clock=lambda: now[0])
    first = await boards.board(1, "sdr_vocals")
    assert len(first.entries) == 101 and first.sortables == ["sdr_vocals", "sdr_instrum"] and not first.stale
    assert client.calls == [(1, 0, 100, "sdr_vocals"), (1, 100, 100, "sdr_vocals")]
    assert list(tmp_path.glob("leaderboard-1-sdr_vocals-127.0.0.1-*.json"))

    again = Leaderboards(lambda: client, tmp_path, "http://127.0.0.1:9/api", ttl=60, clock=lambda: now[0])
    assert len((await again.board(1, "sdr_vocals")).entries) == 101 and len(client.calls) == 2  # from disk
    now[0] += 61
    client.fail = True
    stale = await again.board(1, "sdr_vocals")
    assert stale.stale and len(stale.entries) == 101
    assert (await again.board(1, "sdr_vocals")).entries[0].sdr == {"vocals": 20.0}
