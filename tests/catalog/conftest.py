"""Fixtures: the real 2026 catalogue (117 models) and the recorded 2024 one, parsed by the client's models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from mvsep_mcp.catalog import Catalog
from mvsep_mcp.mvsep.models import Algorithm
from mvsep_mcp_testbench.sandbox.algorithms import DATA_DIR

ROOT = Path(__file__).resolve().parents[2]
CATALOG_2026 = DATA_DIR / "algorithms.json"
CATALOG_2024 = ROOT / "tests" / "fixtures" / "recorded" / "algorithms-200-1.json"


def raw_2026() -> list[dict[str, Any]]:
    return json.loads(CATALOG_2026.read_text(encoding="utf-8"))


def raw_2024() -> list[dict[str, Any]]:
    return json.loads(CATALOG_2024.read_text(encoding="utf-8"))["body"]


@pytest.fixture(scope="session")
def algorithms() -> list[Algorithm]:
    return [Algorithm.model_validate(item) for item in raw_2026()]


@pytest.fixture(scope="session")
def catalog(algorithms: list[Algorithm]) -> Catalog:
    return Catalog(algorithms, fetched_at=1_700_000_000.0)


@pytest.fixture(scope="session")
def bs_roformer(catalog: Catalog) -> Algorithm:
    """render_id 40: a price rule (Overlap 87.5% x2) and a "show" condition (Set of stems only with key 171)."""
    return catalog.find(40)


@pytest.fixture(scope="session")
def polarformer(catalog: Catalog) -> Algorithm:
    """render_id 123: a "hide" condition (Overlap hidden when Model type is 163) on a priced option (x1.5)."""
    return catalog.find(123)


@pytest.fixture(scope="session")
def qwen_tts(catalog: Catalog) -> Algorithm:
    """render_id 120: a required textarea, an optional textarea, a select with non-numeric keys."""
    return catalog.find(120)


def make_algorithm(**overrides: Any) -> Algorithm:
    """A small synthetic model for the cases the real catalogue lacks."""
    item: dict[str, Any] = {
        "id": 9001,
        "render_id": 901,
        "name": "Synthetic Splitter (a, b)",
        "algorithm_group": {"id": 99, "name": "Experimental and Misc"},
        "orientation": 0,
        "is_active": 1,
        "price_coefficient": 1,
        "usage": 10,
        "rating": {"average": "4.0000", "total": 10},
        "output_stems": '["a","b"]',
        "outputs": '{"a":"A","b":"B"}',
        "algorithm_fields": [],
        "algorithm_descriptions": [],
    }
    item.update(overrides)
    return Algorithm.model_validate(item)
