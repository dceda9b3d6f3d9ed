"""Chains planned: each later step checked against the step before (its stems, with the options' variants), one quote
for every step, the stems' uploads within MVSep's limit, and the specs every step becomes."""

from __future__ import annotations

from pathlib import Path

import pytest
from mvsep_mcp.catalog import AccessDenied, Catalog
from mvsep_mcp.jobs.models import JobRecord
from mvsep_mcp.planning import NotEnoughCredits, PlanError, ThenStep, plan_separation, then_steps
from mvsep_mcp.planning.chains import plan_steps, stem_label
from mvsep_mcp.session import Session

from tests.audio_factory import make_audio
from tests.planning.conftest import Stub


def steps(*given: dict[str, object]) -> tuple[ThenStep, ...]:
    return then_steps(given)


def test_a_stem_is_named_as_the_catalogue_labels_it(catalog: Catalog) -> None:
    vocals = catalog.find(27)  # Demucs4 Vocals 2023: vocals -> Vocals, instrumental -> Instrumental
    assert stem_label(vocals, {}, " instrumental ", 2) == "Instrumental"  # a label, case and spaces aside
    assert stem_label(vocals, {}, "VOCALS", 2) == "Vocals"
    bs = catalog.find(40)  # outputs: Vocals, Other
    with pytest.raises(PlanError, match=r"^Step 2 of the chain separates 'Instrumental', which the step before, "
                                        r"BS Roformer \(vocals, instrumental\), does not make: give one of Vocals, "
                                        r"Other as from_stem\.$"):
        stem_label(bs, {}, "Instrumental", 2)


def test_the_options_variant_adds_its_stems(catalog: Catalog) -> None:
    drums = catalog.find(44)  # MVSep Drums: with extract_type 1, a Vocals stem too
    field = next(f for f in drums.algorithm_fields if f.server_key == "extract_type")
    detailed = next(f for f in drums.algorithm_fields if f.server_key == "detailed")
    with pytest.raises(PlanError, match="give one of Drums, Other as from_stem"):
        stem_label(drums, {field.name: "0", detailed.name: "0"}, "Vocals", 2)
    assert stem_label(drums, {field.name: "1", detailed.name: "0"}, "vocals", 2) == "Vocals"


def test_a_model_that_cannot_take_a_stem_or_the_account_is_refused(catalog: Catalog) -> None:
    first = catalog.find(27)
    with pytest.raises(PlanError, match=r"^Step 2 of the chain cannot take a stem: VibeVoice \(TTS\) \(model 104\) "
                                        r"takes no audio upload\."):
        plan_steps(catalog, "registered", first, {}, steps({"from_stem": "Instrumental", "model": 104}))
    with pytest.raises(AccessDenied):
        plan_steps(catalog, "registered", first, {}, steps({"from_stem": "Instrumental", "model": 26}))
    with pytest.raises(PlanError, match=r"^A chain runs at most 3 models in one request and this one has 4"):
        plan_steps(catalog, "premium", first, {}, steps(*[{"from_stem": "Instrumental", "model": 27}] * 3))


def test_a_malformed_step_gets_one_sentence() -> None:
    for bad in ({"model": 20}, {"from_stem": "Other", "model": 20, "option": {}}, {"from_stem": "", "model": 20}):
        with pytest.raises(PlanError, match=r"^Step 2 of the chain must be an object with from_stem"):
            then_steps([bad])


async def test_one_quote_covers_every_step(session: Session, stub: Stub, tmp_path: Path) -> None:
    song = str(make_audio(tmp_path / "in", "flac", seconds=130.0, sample_rate=8000))
    stub.kind, stub.premium_enabled, stub.balance = "premium", True, 100
    chain = steps({"from_stem": "Instrumental", "model": 20}, {"from_stem": "Drums", "model": 37})
    plan = await plan_separation(session, inputs=[song], model=27, then=chain)
    [item] = plan.inputs
    assert [e.credits for e in plan.step_estimates(item) if e] == [2, 2]  # priced from the input's duration
    assert plan.input_credits(item) == plan.total_credits == 6
    assert plan.models_text.endswith("then Demucs4 HT (vocals, drums, bass, other) (model 20) for its Instrumental "
                                     "stem, then DrumSep (4-6 stems: kick, snare, cymbals, toms, ride, hh, crash) "
                                     "(model 37) for its Drums stem")
    stub.balance = 5
    with pytest.raises(NotEnoughCredits, match="about 6 credits and the account has 5"):
        await plan_separation(session, inputs=[song], model=27, then=chain)


async def test_a_stem_too_large_to_upload_again_is_refused(session: Session, tmp_path: Path) -> None:
    song = str(make_audio(tmp_path / "in", "flac", seconds=200.0, sample_rate=8000))  # 200 s of wav32: ~67 MB
    chain = steps({"from_stem": "Instrumental", "model": 20})
    with pytest.raises(PlanError, match=r"uploads each stem of .* again, about 67 MB in wav32, more than the 50 MB "
                                        r"MVSep takes in one upload without premium: choose output_format flac"):
        await plan_separation(session, inputs=[song], model=27, output_format="wav32", then=chain)
    await plan_separation(session, inputs=[song], model=27, output_format="flac", then=chain)


async def test_every_step_becomes_a_spec_of_the_same_song(session: Session, tmp_path: Path) -> None:
    song = str(make_audio(tmp_path / "in", "flac", seconds=1.0, sample_rate=8000))
    plan = await plan_separation(session, inputs=[song], model=27, daw_session=["rpp"],
                                 then=steps({"from_stem": "instrumental", "model": 20, "options": {"Model type": 0}}))
    [head] = plan.specs(account_key="a", base_url="http://x/api", batch_id="b")
    assert head.chain is not None and [s.model_id for s in head.chain.steps] == [27] and head.daw_session == []
    parent = JobRecord(id="j1", spec=head, request_key="k1", created_at=0.0, updated_at=0.0)
    [later] = plan.step_specs([parent], 2)
    assert later.chain is not None and later.chain.after == "j1" and later.chain.after_key == "k1"
    assert later.chain.waiting and later.upload_path is None
    assert [(s.model_id, s.from_stem, s.job_id) for s in later.chain.steps] == [(27, None, "j1"),
                                                                               (20, "Instrumental", None)]
    assert (later.sep_type, later.options, later.daw_session) == (20, {"add_opt1": "0"}, ["rpp"])
    assert (later.input_path, later.input_sha256, later.batch_id) == (head.input_path, head.input_sha256, "b")
    assert later.song_name == Path(song).name
