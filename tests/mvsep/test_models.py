"""The response models: the full 2026 catalogue, lenient decoding, token privacy."""

from __future__ import annotations

import json
import pickle
from typing import Any

import httpx
import pytest
from mvsep_mcp.mvsep import models

from tests.mvsep.conftest import CATALOGUE_2026, TOKEN


@pytest.fixture(scope="module")
def raw_catalogue() -> list[dict[str, Any]]:
    return json.loads(CATALOGUE_2026.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def catalogue(raw_catalogue: list[dict[str, Any]]) -> list[models.Algorithm]:
    return [models.Algorithm.model_validate(item) for item in raw_catalogue]


def test_catalogue_2026_parses_fully(catalogue: list[models.Algorithm], raw_catalogue: list[dict[str, Any]]) -> None:
    assert len(catalogue) == 117
    assert [a.render_id for a in catalogue] == [r["render_id"] for r in raw_catalogue]
    assert all(a.algorithm_group is not None and a.algorithm_group.name for a in catalogue)
    for algo, raw in zip(catalogue, raw_catalogue, strict=True):
        assert len(algo.algorithm_fields) == len(raw["algorithm_fields"])
        for field, raw_field in zip(algo.algorithm_fields, raw["algorithm_fields"], strict=True):
            assert list(field.options) == list(json.loads(raw_field["options"]))  # display order kept
            assert field.required is bool(raw_field["required"])
        if raw["outputs"]:
            assert list(algo.outputs) == list(json.loads(raw["outputs"]))
        if raw["rating"]["average"] not in (0, None):
            assert algo.rating.average == pytest.approx(float(raw["rating"]["average"]))


def test_catalogue_first_entry(catalogue: list[models.Algorithm]) -> None:
    first = catalogue[0]
    assert first.render_id == 26 and first.id == 27 and first.name == "Ensemble (vocals, instrum)"
    assert first.algorithm_group == models.AlgorithmGroup(id=23, name="Ensembles", created_at="2025-12-24 06:31:54",
                                                          updated_at="2025-12-24 06:31:54")
    assert first.rating.average == 4.25 and first.rating.total == 24
    assert first.output_stems == ["vocals", "instrum"]
    assert first.outputs == {"vocals": "Vocals", "other": "Other"}
    assert isinstance(first.output_variants, dict) and first.output_variants["keys"] == ["model_type"]
    model_type = first.field("add_opt2")
    assert model_type is not None and model_type.default_key == "7" and model_type.input_type == "select"
    assert list(model_type.options)[:3] == ["1", "2", "3"] and model_type.required is True
    assert model_type.model_extra and "output_overrides" in model_type.model_extra  # unknown fields kept
    assert first.model_extra and first.model_extra["audio_widget"] == "single_upload"


def test_catalogue_conditions_and_price_rules(catalogue: list[models.Algorithm]) -> None:
    fields = [f for a in catalogue for f in a.algorithm_fields]
    conditions = [c for f in fields for c in f.conditions]
    rules = [r for f in fields for r in f.price_rules]
    assert conditions and rules
    show = next(c for c in conditions if c.depends_on_field_id == 25)
    assert show.operator == "in" and show.value_json == ["171"] and show.action == "show"
    doubled = next(r for r in rules if r.option_key == "8")
    assert doubled.mode == "multiplier" and doubled.value == 2.0
    assert {f.input_type for f in fields} == {"select", "text", "textarea"}
    assert all(f.options == {} for f in fields if f.input_type != "select")
    assert any(a.rating.average is None or a.rating.average == 0 for a in catalogue)


def test_json_string_fields_are_lenient() -> None:
    algo = models.Algorithm.model_validate({
        "render_id": 5, "rating": {"average": "", "total": "3"}, "output_stems": ["already", "decoded"],
        "outputs": "not json", "output_variants": "", "is_active": "0",
        "algorithm_fields": [
            {"name": "add_opt1", "options": None, "default_key": 0, "required": "1", "registered_only_keys": "[\"2\"]",
             "conditions": [{"depends_on_field_id": "7", "value_json": "[\"1\",2]"}],
             "price_rules": [{"option_key": 8, "value": "1.5000"}]},
            {"name": "add_opt2", "options": ["a", "b"], "conditions": None, "price_rules": {}},
            {"name": "add_opt3", "options": {"z": "Z", "a": "A"}},
        ],
    })
    assert algo.rating.average is None and algo.rating.total == 3
    assert algo.output_stems == ["already", "decoded"] and algo.outputs == {} and algo.output_variants is None
    assert algo.is_active is False and algo.algorithm_group is None
    f1, f2, f3 = algo.algorithm_fields
    assert f1.options == {} and f1.default_key == "0" and f1.required is True and f1.registered_only_keys == ["2"]
    assert f1.conditions[0].depends_on_field_id == 7 and f1.conditions[0].value_json == ["1", "2"]
    assert f1.price_rules[0].option_key == "8" and f1.price_rules[0].value == 1.5
    assert f2.options == {"0": "a", "1": "b"} and f2.conditions == [] and f2.price_rules == []
    assert list(f3.options) == ["z", "a"]


def test_separation_result_shapes() -> None:
    failed = models.SeparationResult.model_validate({"success": True, "status": "failed", "data": {"message": "Bad"}})
    assert failed.is_failed and failed.is_terminal and failed.data.message == "Bad"
    missing = models.SeparationResult.model_validate({"success": False, "status": "not_found"})
    assert missing.is_not_found and missing.is_terminal and not missing.is_failed
    odd = models.SeparationResult.model_validate({"status": "Distributing", "data": {
        "queue_count": "4", "finished_chunks": 1, "all_chunks": 3, "files": {"0": {"type": "Bass", "url": "u"}},
        "tags": [], "input_file": "x"}})
    assert odd.status == "distributing" and not odd.is_terminal
    assert odd.data.queue_count == 4 and odd.data.all_chunks == 3 and odd.data.files[0].type == "Bass"
    assert odd.data.tags == {} and odd.data.input_file is None


def test_token_never_exposed_by_user_models() -> None:
    raw = {"name": "Ann", "email": "a@example.com", "api_token": TOKEN, "premium_minutes": "12",
           "premium_enabled": 0, "long_filenames_enabled": 1, "current_queue": 0}
    for model in (models.UserInfo, models.LoginResult):
        user = model.model_validate(raw)
        assert user.token() == TOKEN and user.has_token
        assert user.premium_minutes == 12 and user.premium_enabled is False and user.long_filenames_enabled is True
        for shown in (repr(user), str(user), json.dumps(user.model_dump()), user.model_dump_json(),
                      repr(user.model_extra), repr(user.__dict__)):
            assert TOKEN not in shown
        assert user.model_copy().token() == TOKEN
        assert pickle.loads(pickle.dumps(user)).token() == TOKEN


def test_quality_models() -> None:
    entry = models.QualityEntry.model_validate({"id": "7", "dataset_type": 1, "algo_name": "x", "msg": "OK",
                                                "sdr_vocals": "11.5", "sdr_bass": 9, "sdr_junk": "n/a"})
    assert entry.id == 7 and entry.sdr == {"vocals": 11.5, "bass": 9.0}
    board = models.Leaderboard.model_validate({"data": [{"id": 1}], "dataset_type": "2", "sortables": ["sdr_vocals"]})
    assert board.data[0].id == 1 and board.dataset_type == 2 and board.sortables == ["sdr_vocals"]


async def test_catalogue_through_the_client(make_client: Any) -> None:
    payload = CATALOGUE_2026.read_bytes()
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=payload, headers={"Content-Type": "application/json"})

    async with make_client(handler) as client:
        algos = await client.algorithms(scopes=["single_upload", "no_upload"])
    assert len(algos) == 117 and seen[0].url.params["scopes"] == "single_upload,no_upload"
