"""describe(): plain JSON-able details, conditions as sentences, HTML stripped, English first, access labels."""

from __future__ import annotations

import json

from mvsep_mcp.catalog import Catalog, describe
from mvsep_mcp.catalog.text import html_to_text
from mvsep_mcp.mvsep.models import Algorithm

from .conftest import make_algorithm


def test_bs_roformer_details(bs_roformer: Algorithm) -> None:
    details = describe(bs_roformer)
    assert (details.render_id, details.name, details.group) == (40, "BS Roformer (vocals, instrumental)",
                                                                "Vocals / Instrumental")
    assert (details.access, details.active, details.price_coefficient) == ("everyone", True, 1.0)
    assert (details.rating, details.rating_votes) == (4.6244, 205)
    assert details.outputs == ["Vocals", "Other"]
    assert details.short_description == "BS Roformer model. Excellent quality for vocals/instrumental separation."
    assert [f.name for f in details.fields] == ["add_opt1", "add_opt2", "add_opt3"]
    json.dumps(details.model_dump())  # JSON-able


def test_fields_options_defaults_and_price_multipliers(bs_roformer: Algorithm) -> None:
    model_type, overlap, stems = describe(bs_roformer).fields
    assert (model_type.label, model_type.input_type, model_type.required) == ("Vocal model type", "select", True)
    assert model_type.default_key == "81"
    assert model_type.default_label == "ver 2025.07 (SDR vocals: 11.89, SDR instrum: 18.20)"
    assert [o.key for o in model_type.options][:4] == ["3", "4", "5", "29"]  # display order kept
    assert [(o.key, o.label, o.price_multiplier) for o in overlap.options] == [("2", "50%", None), ("8", "87.5%", 2.0)]
    assert overlap.help_link == "https://mvsep.com/faq/11"
    assert not any(o.registered_only for o in overlap.options)
    assert stems.required is False


def test_conditions_as_sentences(bs_roformer: Algorithm, polarformer: Algorithm) -> None:
    stems = describe(bs_roformer).fields[2]
    assert stems.conditions == [
        'only when "Vocal model type" (add_opt1) is "124 bands (SDR vocals: 12.33, SDR instrum: 18.64)" (key 171)'
    ]
    # a "hide" condition is rendered as the choices under which the field applies
    overlap = describe(polarformer).fields[1]
    assert overlap.conditions == [
        'only when "Model type" (add_opt1) is "BS PolarFormer (62 bands, SDR: 11.75)" (key 158)'
    ]


def test_condition_with_several_choices_and_not_in() -> None:
    algorithm = make_algorithm(algorithm_fields=[
        {"id": 1, "name": "add_opt1", "text": "Mode", "options": '{"a": "Alpha", "b": "Beta", "c": "Gamma"}',
         "default_key": "a", "input_type": "select", "required": 1},
        {"id": 2, "name": "add_opt2", "text": "Strength", "options": '{"1": "Low", "2": "High"}', "default_key": "1",
         "input_type": "select", "required": 1,
         "conditions": [{"depends_on_field_id": 1, "operator": "not_in", "value_json": ["a"], "action": "show"}]},
    ])
    assert describe(algorithm).fields[1].conditions == [
        'only when "Mode" (add_opt1) is one of "Beta" (key b), "Gamma" (key c)'
    ]


def test_html_stripped_and_english_first(bs_roformer: Algorithm) -> None:
    text = describe(bs_roformer).description
    assert text.startswith("BS Roformer model. Excellent quality for vocals/instrumental separation.")
    assert "<" not in text and "&nbsp;" not in text
    assert "BS Roformer (ver. 2024.02) | 10.42 | 16.73 | 12.45 | 12.16 | ---" in text.splitlines()
    assert not any("\u0430" <= ch <= "\u044f" for ch in text)  # no Russian when English exists


def test_russian_only_description_is_used_when_no_english() -> None:
    algorithm = make_algorithm(algorithm_descriptions=[
        {"short_description": "Модель", "long_description": "<p>Модель &amp; всё</p>", "lang": "ru"}
    ])
    details = describe(algorithm)
    assert (details.short_description, details.description) == ("Модель", "Модель & всё")


def test_html_to_text() -> None:
    assert html_to_text("<p>A &amp; B<br>c&nbsp;d</p>\r\n<p>e\r\nf</p><script>x()</script>") == "A & B\nc d\ne f"


def test_access_labels(catalog: Catalog) -> None:
    assert {describe(a).access for a in catalog.algorithms if a.orientation == 1} == {"registered users"}
    assert describe(catalog.find(26)).access == "premium only"
    assert describe(catalog.find(35)).active is False


def test_catalog_describe_accepts_a_name_or_id(catalog: Catalog) -> None:
    assert catalog.describe("40") == catalog.describe(catalog.find(40))
