"""resolve_options: names by add_optN / label / server_key, values by key / label, defaults, conditions, errors."""

from __future__ import annotations

import pytest
from mvsep_mcp.catalog import InvalidOption, resolve_options
from mvsep_mcp.mvsep.models import Algorithm

from .conftest import make_algorithm

BANDS_124 = '"124 bands (SDR vocals: 12.33, SDR instrum: 18.64)" (key 171)'


def test_defaults_fill_every_applicable_field(bs_roformer: Algorithm, polarformer: Algorithm) -> None:
    # add_opt3 "Set of stems" only applies with model type 171, so it is left out
    assert resolve_options(bs_roformer, {}) == {"add_opt1": "81", "add_opt2": "2"}
    # PolarFormer's Overlap is hidden while Model type is 163 (the default)
    assert resolve_options(polarformer, {}) == {"add_opt1": "163"}


def test_field_by_name_label_or_server_key(bs_roformer: Algorithm) -> None:
    expected = {"add_opt1": "81", "add_opt2": "8"}
    assert resolve_options(bs_roformer, {"add_opt2": "8"}) == expected
    assert resolve_options(bs_roformer, {"ADD_OPT2": "8"}) == expected
    assert resolve_options(bs_roformer, {"Overlap": "8"}) == expected
    assert resolve_options(bs_roformer, {"overlap": "8"}) == expected  # label or server_key, any case
    assert resolve_options(bs_roformer, {"vocal model": "4"})["add_opt1"] == "4"  # a unique label prefix
    assert resolve_options(bs_roformer, {"model_type": "4"})["add_opt1"] == "4"  # server_key


def test_value_by_key_label_prefix_or_substring(bs_roformer: Algorithm) -> None:
    assert resolve_options(bs_roformer, {"Overlap": "87.5%"})["add_opt2"] == "8"
    assert resolve_options(bs_roformer, {"Overlap": "87.5"})["add_opt2"] == "8"
    assert resolve_options(bs_roformer, {"Overlap": 8})["add_opt2"] == "8"
    assert resolve_options(bs_roformer, {"Overlap": 8.0})["add_opt2"] == "8"
    assert resolve_options(bs_roformer, {"Vocal model type": "VIPERX EDITION"})["add_opt1"] == "4"
    assert resolve_options(bs_roformer, {"Vocal model type": "ver 2024.08"})["add_opt1"] == "29"
    assert resolve_options(bs_roformer, {"Vocal model type": "hyperace v2 vocals"})["add_opt1"] == "143"


def test_condition_shows_a_field(bs_roformer: Algorithm) -> None:
    assert resolve_options(bs_roformer, {"Vocal model type": "124 bands"}) == {
        "add_opt1": "171", "add_opt2": "2", "add_opt3": "0"
    }
    assert resolve_options(bs_roformer, {"add_opt1": "171", "Set of stems": "fullness"}) == {
        "add_opt1": "171", "add_opt2": "2", "add_opt3": "1"
    }


def test_hidden_field_given_is_refused_naming_what_makes_it_apply(bs_roformer: Algorithm) -> None:
    with pytest.raises(InvalidOption) as caught:
        resolve_options(bs_roformer, {"Set of stems": "Include fullness stems"})
    assert str(caught.value) == (
        '"Set of stems" (add_opt3) does not apply with "Vocal model type" (add_opt1) = '
        '"ver 2025.07 (SDR vocals: 11.89, SDR instrum: 18.20)" (key 81): it applies only when '
        f'"Vocal model type" (add_opt1) is {BANDS_124}. Choose that, or leave "Set of stems" (add_opt3) out.'
    )
    assert caught.value.field == "add_opt3"


def test_hide_condition(polarformer: Algorithm) -> None:
    assert resolve_options(polarformer, {"Model type": "62 bands", "Overlap": "87.5%"}) == {
        "add_opt1": "158", "add_opt2": "8"
    }
    assert resolve_options(polarformer, {"Model type": "62 bands"}) == {"add_opt1": "158", "add_opt2": "2"}
    with pytest.raises(InvalidOption) as caught:
        resolve_options(polarformer, {"Overlap": "87.5%"})
    assert str(caught.value) == (
        '"Overlap" (add_opt2) does not apply with "Model type" (add_opt1) = "BS PolarFormer (124 bands, SDR: 12.02)" '
        '(key 163): it applies only when "Model type" (add_opt1) is "BS PolarFormer (62 bands, SDR: 11.75)" '
        '(key 158). Choose that, or leave "Overlap" (add_opt2) out.'
    )


def test_unknown_field_names_the_valid_ones(bs_roformer: Algorithm) -> None:
    with pytest.raises(InvalidOption) as caught:
        resolve_options(bs_roformer, {"opt1": "4"})
    assert str(caught.value) == (
        'BS Roformer (vocals, instrumental) has no option "opt1". Use one of: "Vocal model type" (add_opt1), '
        '"Overlap" (add_opt2), "Set of stems" (add_opt3).'
    )


def test_model_without_options(catalog: object) -> None:
    algorithm = make_algorithm()
    assert resolve_options(algorithm, {}) == {}
    with pytest.raises(InvalidOption) as caught:
        resolve_options(algorithm, {"Overlap": "8"})
    assert str(caught.value) == 'Synthetic Splitter (a, b) takes no options: leave out "Overlap".'


def test_bad_value_names_the_valid_choices(bs_roformer: Algorithm) -> None:
    with pytest.raises(InvalidOption) as caught:
        resolve_options(bs_roformer, {"Overlap": "99"})
    assert str(caught.value) == '"Overlap" (add_opt2) has no choice "99". Use one of: "50%" (key 2), "87.5%" (key 8).'
    assert caught.value.field == "add_opt2"


def test_ambiguous_value_names_the_candidates(bs_roformer: Algorithm) -> None:
    with pytest.raises(InvalidOption) as caught:
        resolve_options(bs_roformer, {"Vocal model type": "unwa"})
    assert str(caught.value) == (
        '"Vocal model type" (add_opt1): "unwa" matches several choices: '
        '"unwa high instrum fullness (SDR instrum: 17.25)" (key 85), '
        '"unwa BS Roformer HyperACE v2 instrum (SDR instrum: 17.40)" (key 142), '
        '"unwa  BS Roformer HyperACE v2 vocals (SDR vocals: 11.39)" (key 143). Give more of the label, or the key.'
    )


def test_field_given_twice(bs_roformer: Algorithm) -> None:
    with pytest.raises(InvalidOption) as caught:
        resolve_options(bs_roformer, {"Overlap": "2", "add_opt2": "8"})
    assert str(caught.value) == '"Overlap" (add_opt2) was given twice (as "Overlap" and "add_opt2"): give it once.'


def test_text_fields(qwen_tts: Algorithm) -> None:
    assert resolve_options(qwen_tts, {"Text prompt": "Hello there", "language": "German"}) == {
        "add_opt1": "Hello there", "add_opt3": "german", "add_opt4": "0"
    }
    assert resolve_options(qwen_tts, {"text": "Hi", "Reference text": "Original words"}) == {
        "add_opt1": "Hi", "add_opt2": "Original words", "add_opt3": "auto", "add_opt4": "0"
    }


def test_required_text_missing_is_refused(qwen_tts: Algorithm) -> None:
    for given in ({}, {"Text prompt": "   "}):
        with pytest.raises(InvalidOption) as caught:
            resolve_options(qwen_tts, given)
        assert str(caught.value) == (
            'Qwen3-TTS (Voice Cloning) needs "Text prompt" (add_opt1): give it as text, e.g. {"Text prompt": "..."}.'
        )


def test_ambiguous_field_label(qwen_tts: Algorithm) -> None:
    with pytest.raises(InvalidOption) as caught:
        resolve_options(qwen_tts, {"a": "x"})
    assert str(caught.value) == (
        '"a" could mean several options of Qwen3-TTS (Voice Cloning): '
        '"Reference text in audio (optional)" (add_opt2), "Language" (add_opt3), "Extract vocals first" (add_opt4). '
        "Give the full label or the add_optN name."
    )
    assert resolve_options(qwen_tts, {"t": "x"})["add_opt1"] == "x"  # a unique label prefix wins


def test_required_select_without_default_takes_the_first_choice(catalog: object) -> None:
    uvr = catalog.find("UVRv5 Demucs")  # type: ignore[attr-defined]
    field = uvr.algorithm_fields[0]
    assert field.default_key is None
    assert resolve_options(uvr, {})[field.name] == next(iter(field.options))


REGISTERED_ONLY = make_algorithm(algorithm_fields=[
    {"id": 1, "name": "add_opt1", "text": "Quality", "options": '{"0": "Fast", "1": "Best"}', "default_key": "1",
     "input_type": "select", "required": 1, "registered_only_keys": ["1"]},
])


def test_registered_only_choice_refused_for_anonymous() -> None:
    assert resolve_options(REGISTERED_ONLY, {"Quality": "Best"}, account_kind="registered") == {"add_opt1": "1"}
    assert resolve_options(REGISTERED_ONLY, {"Quality": "Best"}, account_kind="premium") == {"add_opt1": "1"}
    with pytest.raises(InvalidOption) as caught:
        resolve_options(REGISTERED_ONLY, {"Quality": "Best"}, account_kind="anonymous")
    assert str(caught.value) == (
        '"Quality" (add_opt1) choice "Best" (key 1) is for registered MVSep users only: set your MVSep API token, '
        'or choose one of: "Fast" (key 0).'
    )
    with pytest.raises(InvalidOption):
        resolve_options(REGISTERED_ONLY, {"Quality": "1"})  # None counts as anonymous


def test_registered_only_default_falls_back_for_anonymous() -> None:
    assert resolve_options(REGISTERED_ONLY, {}) == {"add_opt1": "0"}
    assert resolve_options(REGISTERED_ONLY, {}, account_kind="registered") == {"add_opt1": "1"}
