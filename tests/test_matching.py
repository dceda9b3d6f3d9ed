"""What was typed against a list of names: starting with it first, then containing it, case ignored."""

from __future__ import annotations

from mvsep_mcp.matching import ranked

FORMATS = ["mp3", "wav", "flac", "m4a", "wav32", "flac24"]


def test_starting_with_then_containing_in_the_order_given() -> None:
    assert ranked(FORMATS, "fl") == ["flac", "flac24"]
    assert ranked(["Vocals", "Other", "Instrumental", "vocals"], "AL") == ["Vocals", "Instrumental", "vocals"]
    assert ranked(FORMATS, "3") == ["mp3", "wav32"]


def test_nothing_typed_is_everything_once() -> None:
    assert ranked(["a", "b", "a"], "  ") == ["a", "b"]
    assert ranked(FORMATS, "ogg") == []
