"""Plans: the quote (credits against the balance), the job specs they become, and the ``plan_*`` functions that
check everything against a ``Session`` (catalogue and account stubbed) before anything is sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mvsep_mcp.catalog import AccessDenied, Catalog, InvalidOption, estimate_cost
from mvsep_mcp.media.errors import TemplateError
from mvsep_mcp.media.naming import DEFAULT_TEMPLATE
from mvsep_mcp.planning import (
    NotEnoughCredits,
    Plan,
    PlanError,
    PlannedInput,
    plan_mastering,
    plan_separation,
    plan_text,
)
from mvsep_mcp.session import Session

from tests.audio_factory import make_audio
from tests.planning.conftest import Stub

OPTIONS = {"add_opt1": "81", "add_opt2": "2"}
SENTENCE_TAIL = (
    "Buy credits on mvsep.com, separate fewer files, or turn premium mode off (set_premium_mode, toolset account) to "
    "use the free queue."
)


def priced(catalog: Catalog, seconds: float, source: str = "/music/a.flac") -> PlannedInput:
    return PlannedInput(kind="file", source=source, duration_s=seconds, sha256="ab" * 32, tags={"title": "A"},
                        estimate=estimate_cost(catalog.find(40), OPTIONS, seconds))


def make_plan(catalog: Catalog, inputs: list[PlannedInput], **over: Any) -> Plan:
    values: dict[str, Any] = dict(algorithm=catalog.find(40), options=dict(OPTIONS), output_format=2,
                                  output_root=Path("/out"), name_template=DEFAULT_TEMPLATE, inputs=inputs)
    values.update(over)
    return Plan(**values)


# --- the quote ------------------------------------------------------------------------------------------------------

def test_total_credits_sums_the_estimates(catalog: Catalog) -> None:
    plan = make_plan(catalog, [priced(catalog, 119), priced(catalog, 121), priced(catalog, 600)])
    assert [i.estimate.credits for i in plan.inputs if i.estimate] == [1, 2, 10]
    assert plan.total_credits == 13
    assert plan.output_format_name == "flac"


def test_total_credits_is_unknown_when_one_duration_is(catalog: Catalog) -> None:
    plan = make_plan(catalog, [priced(catalog, 119), PlannedInput(kind="url", source="https://example.com/x.mp3")])
    assert plan.total_credits is None
    plan.check_credits()  # nothing to compare: never refused


def test_check_credits_one_file(catalog: Catalog) -> None:
    plan = make_plan(catalog, [priced(catalog, 300)], spends_credits=True, balance=3)
    with pytest.raises(NotEnoughCredits) as caught:
        plan.check_credits()
    assert str(caught.value) == f"This file needs about 5 credits and the account has 3. {SENTENCE_TAIL}"
    assert isinstance(caught.value, PlanError)


def test_check_credits_many_files(catalog: Catalog) -> None:
    plan = make_plan(catalog, [priced(catalog, 180), priced(catalog, 180)], spends_credits=True, balance=5.5)
    with pytest.raises(NotEnoughCredits) as caught:
        plan.check_credits()
    assert str(caught.value) == f"These 2 files need about 6 credits and the account has 5.5. {SENTENCE_TAIL}"


def test_check_credits_passes_when_it_fits_or_spends_nothing(catalog: Catalog) -> None:
    make_plan(catalog, [priced(catalog, 300)], spends_credits=True, balance=5).check_credits()  # exactly enough
    make_plan(catalog, [priced(catalog, 300)], spends_credits=False, balance=0).check_credits()  # free queue
    make_plan(catalog, [priced(catalog, 300)], spends_credits=True, balance=None).check_credits()  # balance unknown


# --- the specs ------------------------------------------------------------------------------------------------------

def test_specs_for_files_and_urls(catalog: Catalog) -> None:
    plan = make_plan(catalog, [priced(catalog, 121), PlannedInput(kind="url", source="https://example.com/x.mp3")],
                     remote_type="drive", is_demo=True, name_template="{stem}.{ext}")
    file_spec, url_spec = plan.specs(account_key="k", base_url="http://h/api", batch_id="b1")
    assert file_spec.model_dump(include={"kind", "input_path", "url", "remote_type", "sep_type", "model_name",
                                         "options", "output_format", "output_root", "name_template", "is_demo",
                                         "estimated_cost", "batch_id", "input_sha256", "input_tags", "account_key",
                                         "base_url"}) == {
        "kind": "file", "input_path": "/music/a.flac", "url": None, "remote_type": None, "sep_type": 40,
        "model_name": "BS Roformer (vocals, instrumental)", "options": OPTIONS, "output_format": 2,
        "output_root": "/out", "name_template": "{stem}.{ext}", "is_demo": True, "estimated_cost": 2,
        "batch_id": "b1", "input_sha256": "ab" * 32, "input_tags": {"title": "A"}, "account_key": "k",
        "base_url": "http://h/api",
    }
    assert (url_spec.kind, url_spec.url, url_spec.remote_type, url_spec.input_path) == (
        "url", "https://example.com/x.mp3", "drive", None)
    assert url_spec.estimated_cost is None and url_spec.input_sha256 is None


def test_specs_for_matchering_and_text(catalog: Catalog) -> None:
    reference = PlannedInput(kind="file", source="/music/ref.wav", duration_s=10, sha256="cd" * 32)
    target = PlannedInput(kind="matchering", source="/music/mix.wav", duration_s=10, sha256="ef" * 32,
                          reference=reference)
    [spec] = make_plan(catalog, [target], algorithm=catalog.find(68), options={}).specs(account_key="k",
                                                                                      base_url="http://h/api")
    assert (spec.kind, spec.target_path, spec.reference_path, spec.input_path) == (
        "matchering", "/music/mix.wav", "/music/ref.wav", None)
    assert (spec.input_sha256, spec.reference_sha256) == ("ef" * 32, "cd" * 32)
    text = PlannedInput(kind="text", source="", tags={"title": "Greeting"})
    [spec] = make_plan(catalog, [text], algorithm=catalog.find(104)).specs(account_key="k", base_url="http://h/api")
    assert (spec.kind, spec.input_path, spec.url, spec.target_path, spec.input_tags) == (
        "text", None, None, None, {"title": "Greeting"})


# --- planning against a session -------------------------------------------------------------------------------------

async def test_plan_separation_of_a_file_and_a_url(session: Session, tmp_path: Path) -> None:
    song = make_audio(tmp_path / "in", "flac", seconds=0.5, sample_rate=8000)
    plan = await plan_separation(session, inputs=[str(song), "https://example.com/x.mp3"], model="BS Roformer",
                                 options={"Overlap": "87.5%"})
    assert plan.algorithm.render_id == 40 and plan.options == {"add_opt1": "81", "add_opt2": "8"}
    assert plan.output_format == 2 and plan.output_root == tmp_path / "out"  # the settings' defaults
    assert plan.name_template == DEFAULT_TEMPLATE and plan.remote_type == "direct"
    file_input, url_input = plan.inputs
    assert file_input.estimate is not None and file_input.estimate.credits == 2  # 1 credit × 2 for the overlap
    assert url_input.estimate is None and plan.total_credits is None
    assert (plan.spends_credits, plan.balance) == (False, 0.0)


async def test_plan_separation_overrides(session: Session, tmp_path: Path) -> None:
    song = make_audio(tmp_path / "in", "mp3", seconds=0.5, sample_rate=8000)
    plan = await plan_separation(session, inputs=[str(tmp_path / "in")], model=40, output_format="wav32",
                                 output_dir=str(tmp_path / "elsewhere"), name_template="{artist}/{stem}.{ext}",
                                 remote_type="mega", is_demo=True)
    assert [i.source for i in plan.inputs] == [str(song)]
    assert (plan.output_format, plan.output_root, plan.name_template) == (4, tmp_path / "elsewhere",
                                                                          "{artist}/{stem}.{ext}")
    assert plan.remote_type == "mega" and plan.is_demo and plan.total_credits == 1


async def test_plan_separation_refusals(session: Session, tmp_path: Path) -> None:
    song = str(make_audio(tmp_path / "in", "flac", seconds=0.5, sample_rate=8000))
    with pytest.raises(PlanError, match=r"^The output folder 'stems' is not an absolute path"):
        await plan_separation(session, inputs=[song], model=40, output_dir="stems")
    with pytest.raises(TemplateError):
        await plan_separation(session, inputs=[song], model=40, name_template="{nonsense}.{ext}")
    with pytest.raises(PlanError, match=r"^Unknown output format 'aiff'"):
        await plan_separation(session, inputs=[song], model=40, output_format="aiff")
    with pytest.raises(InvalidOption):
        await plan_separation(session, inputs=[song], model=40, options={"Overlap": "99%"})
    with pytest.raises(AccessDenied):
        await plan_separation(session, inputs=[song], model=26)
    with pytest.raises(PlanError, match=r"use master_audio for it"):
        await plan_separation(session, inputs=[song], model=68)
    with pytest.raises(PlanError, match=r"is not an absolute path"):
        await plan_separation(session, inputs=["song.flac"], model=40)


async def test_plan_separation_checks_credits_when_premium_is_on(session: Session, stub: Stub,
                                                                 tmp_path: Path) -> None:
    song = str(make_audio(tmp_path / "in", "flac", seconds=0.5, sample_rate=8000))
    stub.kind, stub.premium_enabled, stub.balance = "premium", True, 1
    with pytest.raises(NotEnoughCredits) as caught:
        await plan_separation(session, inputs=[song], model=40, options={"Overlap": "87.5%"})
    assert str(caught.value) == f"This file needs about 2 credits and the account has 1. {SENTENCE_TAIL}"
    plan = await plan_separation(session, inputs=[song], model=40)
    assert (plan.spends_credits, plan.balance, plan.total_credits) == (True, 1, 1)
    stub.premium_enabled = False  # the free queue: the same request is not refused
    plan = await plan_separation(session, inputs=[song], model=40, options={"Overlap": "87.5%"})
    assert not plan.spends_credits and plan.total_credits == 2


async def test_plan_mastering(session: Session, tmp_path: Path) -> None:
    target = make_audio(tmp_path / "in", "wav", name="mix", seconds=0.5, sample_rate=8000)
    reference = make_audio(tmp_path / "in", "flac", name="ref", seconds=1.0, sample_rate=8000, seed=3)
    plan = await plan_mastering(session, target=str(target), reference=str(reference))
    assert plan.algorithm.render_id == 68  # the first (and only) Matchering model
    [item] = plan.inputs
    assert (item.kind, item.source) == ("matchering", str(target))
    assert item.reference is not None and item.reference.source == str(reference)
    assert item.estimate is not None and item.estimate.duration_s == pytest.approx(0.5, abs=0.01)
    assert plan.name_template == DEFAULT_TEMPLATE
    with pytest.raises(PlanError, match=r"^The reference 'ref.flac' is not an absolute path"):
        await plan_mastering(session, target=str(target), reference="ref.flac")
    with pytest.raises(PlanError, match=r"^No file 'gone.wav'"):
        await plan_mastering(session, target=str(tmp_path / "in" / "gone.wav"), reference=str(reference))
    with pytest.raises(PlanError, match=r"use separate_audio for it"):
        await plan_mastering(session, target=str(target), reference=str(reference), model=40)


async def test_plan_text(session: Session) -> None:
    plan = await plan_text(session, model="VibeVoice (TTS)", options={"Text prompt": "Hello"}, title="Greeting",
                           output_format="mp3")
    assert plan.algorithm.render_id == 104 and plan.output_format == 0
    assert plan.options == {"add_opt1": "0", "add_opt2": "Hello"}
    [item] = plan.inputs
    assert (item.kind, item.source, item.tags, item.estimate) == ("text", "", {"title": "Greeting"}, None)
    assert plan.total_credits is None
    untitled = await plan_text(session, model=104, options={"Text prompt": "Hi"})
    assert untitled.inputs[0].tags == {}
    with pytest.raises(PlanError, match=r"use separate_audio for it"):
        await plan_text(session, model=40, options=None)
