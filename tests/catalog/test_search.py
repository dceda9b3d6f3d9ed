"""Catalog.search: text, group, stem, sorting, paging, inactive and access filtering; groups() and stems()."""

from __future__ import annotations

from mvsep_mcp.catalog import Catalog
from mvsep_mcp.catalog.facts import rating_score

from .conftest import make_algorithm


def names(page: object) -> list[str]:
    return [a.name for a in page]  # type: ignore[attr-defined]


def test_text_matches_every_word_in_name_group_description_or_outputs(catalog: Catalog) -> None:
    page = catalog.search("roformer instrumental", sort="name", limit=100)
    assert {"BS Roformer (vocals, instrumental)", "MelBand Roformer (vocals, instrumental)"} <= set(names(page))
    assert "BS PolarFormer (vocals, instrumental)" not in names(page)  # "roformer" is not in "polarformer"
    assert all("roformer" in (a.name + a.short_description("en")).lower() for a in page)
    # "excellent" only appears in BS Roformer's English short description
    assert 40 in [a.render_id for a in catalog.search("excellent quality", limit=100)]
    # an output label: "Crowd" is a stem of the crowd-removal model
    assert [a.render_id for a in catalog.search("crowd", limit=100)] == [catalog.find("MVSep Crowd removal").render_id]


def test_text_is_case_and_accent_insensitive(catalog: Catalog) -> None:
    assert names(catalog.search("BS RÓFORMER vocals")) == names(catalog.search("bs roformer VOCALS"))
    assert catalog.search("bs róformer").total >= 2


def test_text_with_no_match_is_an_empty_page(catalog: Catalog) -> None:
    page = catalog.search("roformer kazoo")
    assert page.items == [] and page.total == 0 and page.next_offset is None


def test_group_matches_loosely(catalog: Catalog) -> None:
    page = catalog.search(group="vocals", limit=100)
    assert page.total == 16
    assert {a.algorithm_group.name for a in page} == {"Vocals / Instrumental"}
    assert catalog.search(group="drums bass", limit=100).total == 4  # "Drums, Bass and Synth"
    assert catalog.search(group="ASR", limit=100).total == 4
    assert catalog.search(group="no such group").total == 0


def test_stem_matches_output_keys_and_labels(catalog: Catalog) -> None:
    drums = catalog.search(stem="drums", limit=100)
    assert drums.total == 14
    assert all(any(label.lower().startswith("drum") for label in a.outputs.values()) or "drums" in a.output_stems
               for a in drums)
    assert catalog.search(stem="Drums", limit=100).total == drums.total
    assert catalog.search(stem="drum", limit=100).total == drums.total
    bass = {a.render_id for a in catalog.search(stem="bass", limit=100)}
    assert 63 in bass and 40 not in bass
    # "instrum" is a stem key, "Instrumental" a label
    assert catalog.search(stem="instrumental", limit=100).total > 0
    assert catalog.search(stem="instrum", limit=100).total > 0


def test_filters_combine(catalog: Catalog) -> None:
    page = catalog.search("roformer", group="vocals", stem="vocals", sort="name", limit=100)
    assert names(page) == [
        "BS Roformer (vocals, instrumental)",
        "MelBand Roformer (vocals, instrumental)",
        "MVSep Karaoke (lead/back vocals)",  # "Lead vocals" (key vocals-lead) counts as a vocals stem
    ]


def test_inactive_models_are_hidden_unless_asked(catalog: Catalog) -> None:
    assert catalog.search(limit=100).total == 116
    assert catalog.search(include_inactive=True, limit=100).total == 117
    assert 35 not in [a.render_id for a in catalog.search("MVSep MelBand Roformer", limit=100)]
    assert 35 in [a.render_id for a in catalog.search("MVSep MelBand Roformer", include_inactive=True, limit=100)]


def test_sort_by_rating_uses_a_bayesian_average(catalog: Catalog) -> None:
    one_vote = make_algorithm(render_id=901, name="One vote", rating={"average": "5.0000", "total": 1})
    forty = make_algorithm(render_id=902, name="Forty votes", rating={"average": "4.5000", "total": 40})
    unrated = make_algorithm(render_id=903, name="Unrated", rating={"average": 0, "total": 0})
    small = Catalog([one_vote, unrated, forty])
    assert names(small.search(sort="rating")) == ["Forty votes", "One vote", "Unrated"]
    ranked = catalog.search(sort="rating", limit=100, include_inactive=True).items
    scores = [rating_score(a) for a in ranked]
    assert scores == sorted(scores, reverse=True)


def test_sort_by_usage_name_and_price(catalog: Catalog) -> None:
    by_usage = catalog.search(sort="usage", limit=5).items
    assert [a.render_id for a in by_usage][:2] == [63, 40]
    usages = [a.usage for a in catalog.search(sort="usage", limit=100).items]
    assert usages == sorted(usages, reverse=True)
    by_name = [a.name.casefold() for a in catalog.search(sort="name", limit=100)]
    assert by_name == sorted(by_name)
    by_price = [a.price_coefficient for a in catalog.search(sort="price", limit=100, offset=16)]
    assert by_price == sorted(by_price) and by_price[-1] == 6


def test_paging(catalog: Catalog) -> None:
    first = catalog.search(sort="name", limit=50)
    second = catalog.search(sort="name", limit=50, offset=50)
    third = catalog.search(sort="name", limit=50, offset=100)
    assert (first.total, len(first.items), first.next_offset) == (116, 50, 50)
    assert (len(second.items), second.next_offset) == (50, 100)
    assert (len(third.items), third.next_offset) == (16, None)
    everything = [a.render_id for page in (first, second, third) for a in page]
    assert len(set(everything)) == 116
    assert catalog.search(limit=10_000).total == len(catalog.search(limit=10_000).items) == 116


def test_usable_only_follows_orientation(catalog: Catalog) -> None:
    everyone = catalog.search(usable_only=True, account_kind=None, limit=100)
    registered = catalog.search(usable_only=True, account_kind="registered", limit=100)
    premium = catalog.search(usable_only=True, account_kind="premium", limit=100)
    assert {a.orientation for a in everyone} == {0}
    assert {a.orientation for a in registered} == {0, 1}
    assert premium.total == catalog.search(limit=100).total
    assert everyone.total < registered.total < premium.total


def test_groups_and_stems(catalog: Catalog) -> None:
    groups = catalog.groups()
    assert groups[0] == ("Vocals / Instrumental", 16)
    assert sum(n for _, n in groups) == 116
    assert dict(catalog.groups(include_inactive=True))["Old Models"] == 14
    stems = dict(catalog.stems())
    assert stems["Vocals"] >= 20 and stems["Drums"] == 11 and stems["Bass"] == 12
    assert list(stems) == [label for label, _ in catalog.stems()]
