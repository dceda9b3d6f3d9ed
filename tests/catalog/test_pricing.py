"""estimate_cost: MVSep's floor formula, option multipliers after the floor, rounded up, with a breakdown."""

from __future__ import annotations

import pytest
from mvsep_mcp.catalog import Catalog, base_credits, estimate_cost, resolve_options
from mvsep_mcp.mvsep.models import Algorithm

from .conftest import make_algorithm


@pytest.mark.parametrize(
    ("duration_s", "coefficient", "credits"),
    [(119, 1, 1), (121, 1, 2), (0, 1, 1), (30, 1, 1), (60, 1, 1), (600, 1, 10), (119, 2, 3), (215, 6, 21)],
)
def test_base_formula(duration_s: float, coefficient: float, credits: int) -> None:
    assert base_credits(duration_s, coefficient) == credits


def test_real_reference_points(bs_roformer: Algorithm) -> None:
    defaults = resolve_options(bs_roformer, {})
    assert estimate_cost(bs_roformer, defaults, 119).credits == 1
    assert estimate_cost(bs_roformer, defaults, 121).credits == 2
    estimate = estimate_cost(bs_roformer, defaults, 121)
    assert (estimate.base_credits, estimate.multiplier, estimate.rules, estimate.uncertain) == (2, 1.0, [], False)
    assert int(estimate) == 2
    assert estimate.breakdown == "2.02 min × price coefficient 1 = 2.02, rounded down (at least 1): 2 credits"


def test_price_coefficient_of_an_ensemble(catalog: Catalog) -> None:
    all_in = catalog.find("Ensemble All-In")
    assert all_in.price_coefficient == 6
    assert estimate_cost(all_in, resolve_options(all_in, {}, account_kind="premium"), 215).credits == 21


def test_multiplier_after_the_floor(bs_roformer: Algorithm) -> None:
    options = resolve_options(bs_roformer, {"Overlap": "87.5%"})
    estimate = estimate_cost(bs_roformer, options, 121)
    assert (estimate.base_credits, estimate.multiplier, estimate.credits) == (2, 2.0, 4)
    assert estimate.breakdown == (
        "2.02 min × price coefficient 1 = 2.02, rounded down (at least 1): 2 credits; "
        '× 2 for "Overlap" (add_opt2) = "87.5%" (key 8); total 2 × 2: 4 credits'
    )
    assert [r.model_dump() for r in estimate.rules] == [
        {"field": "add_opt2", "option_key": "8", "mode": "multiplier", "value": 2.0, "counted": True}
    ]


def test_fractional_product_is_rounded_up(polarformer: Algorithm) -> None:
    options = resolve_options(polarformer, {"Model type": "62 bands", "Overlap": "87.5%"})
    estimate = estimate_cost(polarformer, options, 100)
    assert (estimate.base_credits, estimate.multiplier, estimate.credits) == (1, 1.5, 2)
    assert estimate.breakdown.endswith("total 1 × 1.5 = 1.5, rounded up: 2 credits")
    assert estimate_cost(polarformer, options, 240).credits == 6  # 4 × 1.5


def test_multiplier_of_one_changes_nothing(bs_roformer: Algorithm) -> None:
    options = resolve_options(bs_roformer, {"Vocal model type": "124 bands"})  # rule 171: multiplier 1.0
    estimate = estimate_cost(bs_roformer, options, 300)
    assert (estimate.credits, len(estimate.rules)) == (5, 1)
    assert ";" not in estimate.breakdown  # nothing but the base line


def test_rules_of_fields_not_sent_do_not_count(polarformer: Algorithm) -> None:
    # Overlap is hidden with model type 163, so its multiplier cannot apply
    assert estimate_cost(polarformer, {"add_opt1": "163"}, 600).credits == 10


def test_unknown_rule_mode_is_listed_not_counted() -> None:
    algorithm = make_algorithm(algorithm_fields=[
        {"id": 1, "name": "add_opt1", "text": "Extra", "options": '{"0": "No", "1": "Yes"}', "default_key": "0",
         "input_type": "select", "required": 1,
         "price_rules": [{"option_key": "1", "mode": "add", "value": "3.0000"}]},
    ])
    estimate = estimate_cost(algorithm, {"add_opt1": "1"}, 120)
    assert (estimate.credits, estimate.uncertain) == (2, True)
    assert "a price rule of unknown mode 'add' (3) for \"Extra\" (add_opt1) is not counted" in estimate.breakdown


def _priced_field(number: int, multiplier: str) -> dict[str, object]:
    return {
        "id": number, "name": f"add_opt{number}", "text": f"F{number}", "options": '{"0": "x", "1": "y"}',
        "default_key": "0", "input_type": "select", "required": 1,
        "price_rules": [{"option_key": "1", "mode": "multiplier", "value": multiplier}],
    }


def test_several_multipliers_multiply() -> None:
    algorithm = make_algorithm(algorithm_fields=[_priced_field(1, "2"), _priced_field(2, "1.5")])
    estimate = estimate_cost(algorithm, {"add_opt1": "1", "add_opt2": "1"}, 180)
    assert (estimate.base_credits, estimate.multiplier, estimate.credits) == (3, 3.0, 9)
