"""The catalogue layer reads every real item, in the 2026 and the 2024 shapes."""

from __future__ import annotations

from mvsep_mcp.catalog import Catalog, describe, resolve_options
from mvsep_mcp.catalog.facts import group_name, output_labels, rating_score
from mvsep_mcp.mvsep.models import Algorithm

from .conftest import raw_2024, raw_2026


def test_all_117_real_items_parse_and_describe() -> None:
    algorithms = [Algorithm.model_validate(item) for item in raw_2026()]
    assert len(algorithms) == 117
    assert len({a.render_id for a in algorithms}) == 117
    for algorithm in algorithms:
        details = describe(algorithm)
        assert details.render_id == algorithm.render_id
        assert details.group
        assert details.access in {"everyone", "registered users", "premium only"}
        resolve_options(algorithm, {} if not _needs_text(algorithm) else _texts(algorithm), account_kind="registered")


def _needs_text(algorithm: Algorithm) -> bool:
    return any(f.input_type in {"text", "textarea"} and f.required for f in algorithm.algorithm_fields)


def _texts(algorithm: Algorithm) -> dict[str, str]:
    return {f.name: "hello" for f in algorithm.algorithm_fields if f.input_type in {"text", "textarea"} and f.required}


def test_2024_shape_parses_and_works_without_groups_ratings_or_outputs() -> None:
    algorithms = [Algorithm.model_validate(item) for item in raw_2024()]
    assert len(algorithms) == 38
    catalog = Catalog(algorithms)
    assert catalog.search(include_inactive=True, limit=100).total == 38
    assert catalog.groups(include_inactive=True) == []  # the 2024 shape has group ids only
    for algorithm in algorithms:
        assert group_name(algorithm) == ""
        assert output_labels(algorithm) == []
        assert rating_score(algorithm) == 3.0
        details = describe(algorithm)
        assert details.rating is None and details.usage == 0
        resolve_options(algorithm, {}, account_kind="registered")
    ensemble = catalog.find(26)
    assert resolve_options(ensemble, {"Output files": "standard"}) == {"add_opt1": "0"}
