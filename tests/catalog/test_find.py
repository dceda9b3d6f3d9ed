"""Catalog.find: render_id, exact name, unique partial or fuzzy name; UnknownModel with suggestions."""

from __future__ import annotations

import pytest
from mvsep_mcp.catalog import Catalog, CatalogError, UnknownModel

from .conftest import make_algorithm


def test_by_render_id_int_or_digits(catalog: Catalog) -> None:
    assert catalog.find(40).name == "BS Roformer (vocals, instrumental)"
    assert catalog.find("40").render_id == 40
    assert catalog.find(" 123 ").name == "BS PolarFormer (vocals, instrumental)"
    assert catalog.find(0).render_id == 0  # render_id 0 exists and is not "nothing"


def test_render_id_is_not_the_internal_id(catalog: Catalog) -> None:
    model = catalog.find(26)
    assert (model.render_id, model.id) == (26, 27)
    assert catalog.find(27).render_id == 27 and catalog.find(27).id != 27


def test_by_exact_name_case_insensitive(catalog: Catalog) -> None:
    assert catalog.find("bs roformer (VOCALS, instrumental)").render_id == 40
    assert catalog.find("BS Roformer vocals instrumental").render_id == 40  # punctuation ignored


def test_by_unique_substring_or_words(catalog: Catalog) -> None:
    assert catalog.find("polarformer").render_id == 123
    assert catalog.find("Qwen3").render_id == 120
    assert catalog.find("karaoke lead back mvsep").render_id == 49  # every word, any order


def test_by_fuzzy_name() -> None:
    small = Catalog([
        make_algorithm(render_id=1, name="Demucs4 HT (vocals, drums, bass, other)"),
        make_algorithm(render_id=2, name="MDX23C (vocals, instrumental)"),
    ])
    assert small.find("Demucs 4 HT (vocals drums bass other)").render_id == 1
    assert small.find("mdx 23c vocals instrumental").render_id == 2


def test_inactive_models_are_still_found(catalog: Catalog) -> None:
    assert catalog.find(35).is_active is False


def test_ambiguous_name_lists_the_candidates(catalog: Catalog) -> None:
    with pytest.raises(UnknownModel) as caught:
        catalog.find("roformer")
    assert str(caught.value) == (
        '"roformer" matches 4 models: BS Roformer (vocals, instrumental) (render_id 40); '
        "MelBand Roformer (vocals, instrumental) (render_id 48); "
        "MVSep MelBand Roformer (vocals, instrum) (render_id 35); "
        "BS Roformer SW (vocals, bass, drums, guitar, piano, other) (render_id 63). "
        "Give the render_id or the full name, or search the catalogue to narrow it down."
    )
    assert caught.value.suggestions[0] == ("BS Roformer (vocals, instrumental)", 40)


def test_unknown_name_suggests_up_to_five_closest(catalog: Catalog) -> None:
    with pytest.raises(UnknownModel) as caught:
        catalog.find("bs roformr")
    error = caught.value
    assert isinstance(error, CatalogError)
    assert len(error.suggestions) == 5
    assert ("BS Roformer (vocals, instrumental)", 40) in error.suggestions[:2]
    assert str(error).startswith('No model matches "bs roformr". Closest: ')
    assert str(error).endswith("Give one of these render_ids, or search the catalogue by name, group or stem.")
    assert "BS Roformer (vocals, instrumental) (render_id 40)" in str(error)


def test_unknown_render_id(catalog: Catalog) -> None:
    with pytest.raises(UnknownModel, match=r'^No model matches "9999"\. Closest: '):
        catalog.find(9999)
    with pytest.raises(UnknownModel):
        catalog.find("")


def test_exact_message_on_a_small_catalogue() -> None:
    small = Catalog([
        make_algorithm(render_id=1, name="Alpha Splitter", usage=5),
        make_algorithm(render_id=2, name="Beta Splitter", usage=9),
    ])
    with pytest.raises(UnknownModel) as caught:
        small.find("gamma")
    assert str(caught.value) == (
        'No model matches "gamma". Closest: Alpha Splitter (render_id 1); Beta Splitter (render_id 2). '
        "Give one of these render_ids, or search the catalogue by name, group or stem."
    )


def test_name_before_the_stem_list_is_exact(catalog: Catalog) -> None:
    assert catalog.find("BS Roformer").render_id == 40
    assert catalog.find("demucs4 ht").render_id == 20
