"""Models what was typed may mean, best first, over the real 2026 catalogue: by render_id, by name, by words."""

from __future__ import annotations

from mvsep_mcp.catalog import Catalog
from mvsep_mcp.catalog.facts import is_active, usage
from mvsep_mcp.catalog.suggestions import model_values, suggest_models

from .conftest import make_algorithm


def ids(catalog: Catalog, typed: str) -> list[int]:
    return [a.render_id for a in suggest_models(catalog, typed)]


def test_a_number_is_a_render_id_first(catalog: Catalog) -> None:
    assert ids(catalog, "40") == [40]
    found = ids(catalog, "4")
    prefixed = [i for i in found if str(i).startswith("4")]
    assert found[: len(prefixed)] == prefixed and len(prefixed) >= 5
    assert any(not str(i).startswith("4") for i in found)  # then names with a 4 in them ("Demucs4 HT")


def test_part_of_a_name(catalog: Catalog) -> None:
    assert ids(catalog, "bs rofo")[:2] == [63, 40]  # names starting with it, the more used first
    assert ids(catalog, "karaoke")[:2] == [49, 12]
    demucs = suggest_models(catalog, "DEMUCS")
    assert demucs and all(a.name.lower().startswith("demucs") for a in demucs[:4])
    assert ids(catalog, "bs roformr")[:2] == [63, 40]  # a typo still finds them (difflib)
    assert ids(catalog, "zzzz") == []


def test_words_of_the_description_and_stems_come_after_names(catalog: Catalog) -> None:
    drums = suggest_models(catalog, "drums")
    assert drums[0].name.startswith("DrumSep")  # a name starting with it
    assert len(drums) > 10 and all(is_active(a) for a in drums)


def test_nothing_typed_is_every_active_model_most_used_first(catalog: Catalog) -> None:
    everything = suggest_models(catalog, "")
    assert len(everything) == sum(1 for a in catalog.algorithms if is_active(a))
    assert [usage(a) for a in everything] == sorted((usage(a) for a in everything), reverse=True)


def test_a_prompt_gets_names_unless_a_name_is_shared(catalog: Catalog) -> None:
    twin = make_algorithm(render_id=902, name="Twin")
    other = make_algorithm(render_id=903, name="twin")
    lone = make_algorithm(render_id=904, name="Lone")
    small = Catalog([twin, other, lone])
    assert model_values(small, [twin, lone, other]) == ["902", "Lone", "903"]
    assert model_values(catalog, suggest_models(catalog, "40")) == ["BS Roformer (vocals, instrumental)"]
