"""The model, its options and the output format of a request, checked against the real catalogue for an account."""

from __future__ import annotations

from typing import Any

import pytest
from mvsep_mcp.catalog import AccessDenied, Catalog, InvalidOption, UnknownModel
from mvsep_mcp.mvsep.formats import OUTPUT_FORMATS
from mvsep_mcp.mvsep.models import Algorithm
from mvsep_mcp.planning import PlanError, choose_model, model_widget, output_format_code
from mvsep_mcp.planning.model import check_options


def algorithm(**extra: Any) -> Algorithm:
    return Algorithm.model_validate({"id": 1, "render_id": 901, "name": "Synthetic", "algorithm_fields": [], **extra})


@pytest.mark.parametrize("model", [40, "40", " 40 ", "BS Roformer", "bs roformer (vocals, instrumental)"])
def test_by_id_or_name(catalog: Catalog, model: str | int) -> None:
    assert choose_model(catalog, model, "registered").render_id == 40


def test_unknown_model_names_the_closest(catalog: Catalog) -> None:
    with pytest.raises(UnknownModel, match=r'^No model matches "Zzyzx Splitter 3000"\. Closest: '):
        choose_model(catalog, "Zzyzx Splitter 3000", "registered")


def test_premium_only_model_is_refused_for_a_registered_account(catalog: Catalog) -> None:
    with pytest.raises(AccessDenied) as caught:
        choose_model(catalog, 26, "registered")
    assert str(caught.value) == (
        "Ensemble (vocals, instrum) (render_id 26) is for premium MVSep accounts only: buy premium on mvsep.com, "
        "or choose a model that your account may use."
    )
    assert choose_model(catalog, 26, "premium").render_id == 26


def test_registered_only_model_without_an_account(catalog: Catalog) -> None:
    with pytest.raises(AccessDenied, match=r"is for registered MVSep users only: set your MVSep API token"):
        choose_model(catalog, 20, None)
    assert choose_model(catalog, 20, "registered").render_id == 20


@pytest.mark.parametrize(("model", "widget", "sentence"), [
    (68, "single_upload",
     "Matchering (by sergree) (model 68) takes a target and a reference file: use master_audio for it (toolset "
     "studio)."),
    (104, "single_upload",
     "VibeVoice (TTS) (model 104) takes no audio upload: use generate_from_text for it (toolset studio)."),
    (40, "no_upload",
     "BS Roformer (vocals, instrumental) (model 40) takes one audio file: use separate_audio for it (toolset "
     "separation)."),
    (40, "matchering_upload",
     "BS Roformer (vocals, instrumental) (model 40) takes one audio file: use separate_audio for it (toolset "
     "separation)."),
])
def test_a_model_of_another_kind_names_the_right_tool(catalog: Catalog, model: int, widget: Any,
                                                       sentence: str) -> None:
    with pytest.raises(PlanError) as caught:
        choose_model(catalog, model, "premium", widget)
    assert str(caught.value) == sentence


def test_access_is_checked_before_the_kind(catalog: Catalog) -> None:
    # Bark (registered users only, no upload) asked for by someone without an account, from the separation tool
    with pytest.raises(AccessDenied):
        choose_model(catalog, 115, None, "single_upload")


@pytest.mark.parametrize(("kind", "widget", "expected"), [
    ("premium", "single_upload", 26),  # the catalogue's first model
    ("registered", "single_upload", 63),  # the first one a registered account may use (26, 28, 30 are premium)
    (None, "single_upload", 63),
    ("registered", "matchering_upload", 68),
    ("registered", "no_upload", 104),
])
def test_no_model_means_the_first_of_its_kind_the_account_may_use(catalog: Catalog, kind: Any, widget: Any,
                                                                    expected: int) -> None:
    assert choose_model(catalog, None, kind, widget).render_id == expected
    assert choose_model(catalog, "  ", kind, widget).render_id == expected


def test_no_model_of_the_kind(catalog: Catalog) -> None:
    only_uploads = Catalog([a for a in catalog.algorithms if model_widget(a) == "single_upload"])
    with pytest.raises(PlanError, match=r"^MVSep's catalogue lists no model of that kind"):
        choose_model(only_uploads, None, "premium", "no_upload")


def test_model_widget_reads_the_site_fields() -> None:
    assert model_widget(algorithm()) == "single_upload"
    assert model_widget(algorithm(audio_widget="matchering_upload")) == "matchering_upload"
    assert model_widget(algorithm(audio_widget="no_upload")) == "no_upload"
    assert model_widget(algorithm(audio_widget="single_upload", audio_upload_disabled=1)) == "no_upload"
    assert model_widget(algorithm(audio_widget="single_upload", audio_upload_disabled="0")) == "single_upload"
    assert model_widget(algorithm(audio_widget="some_future_widget")) == "single_upload"


def test_check_options_resolves_labels_and_fills_defaults(catalog: Catalog) -> None:
    bs_roformer = catalog.find(40)
    assert check_options(bs_roformer, None, "registered") == {"add_opt1": "81", "add_opt2": "2"}
    assert check_options(bs_roformer, {"Overlap": "87.5%"}, "registered") == {"add_opt1": "81", "add_opt2": "8"}
    assert check_options(bs_roformer, {"add_opt2": 8}, "registered") == {"add_opt1": "81", "add_opt2": "8"}


def test_check_options_refuses_what_the_model_does_not_take(catalog: Catalog) -> None:
    bs_roformer = catalog.find(40)
    with pytest.raises(InvalidOption) as caught:
        check_options(bs_roformer, {"Overlap": "99%"}, "registered")
    assert caught.value.field == "add_opt2" and "87.5%" in str(caught.value)
    with pytest.raises(InvalidOption):
        check_options(bs_roformer, {"Shininess": "max"}, "registered")


def test_check_options_takes_free_text_for_text_fields(catalog: Catalog) -> None:
    bark = catalog.find(115)
    assert check_options(bark, {"Text prompt": "Hello there"}, "registered") == {
        "add_opt1": "Hello there", "add_opt2": "en_0"
    }


@pytest.mark.parametrize("fmt", OUTPUT_FORMATS, ids=lambda f: f.name)
def test_output_format_code_for_every_format(fmt: Any) -> None:
    assert output_format_code(fmt.name) == fmt.code
    assert output_format_code(fmt.name.upper()) == fmt.code


def test_unknown_output_format() -> None:
    with pytest.raises(PlanError) as caught:
        output_format_code("ogg")
    assert str(caught.value) == "Unknown output format 'ogg': use one of mp3, wav, flac, m4a, wav32, flac24."
