# ruff: noqa: ASYNC240 - tests inspect small files on disk directly
"""Stems that open aligned, through the whole pipeline: every output format of a real sandbox job (whose stems are
a few milliseconds long or short, and whose MP3s carry encoder delay) lines up with the input or says why not, and
WAV stems carry BWF provenance that wavinfo reads back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import soundfile
from mvsep_mcp.daw import read_stream_facts
from mvsep_mcp.jobs import JobRunner, JobState, Journal
from mvsep_mcp.mvsep import FORMAT_BY_CODE, MVSepClient
from mvsep_mcp_testbench.sandbox import SANDBOX_PREMIUM_TOKEN, JobTiming, SandboxServer, SandboxState

from tests.audio_factory import Song, make_audio
from tests.jobs.helpers import ACCOUNT, FAST, finish, make_spec, no_sessions, running

PCM = ("wav", "flac")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    state = SandboxState(storage_dir=tmp_path_factory.mktemp("storage"), timing=JobTiming.fast())
    assert state.misalignment is not None  # realistic stems: a few ms off, encoder delay in lossy ones
    with SandboxServer(state) as server:
        yield server
    state.close()


@pytest.mark.parametrize("code", sorted(FORMAT_BY_CODE))
async def test_every_format_lines_up_with_the_input(tmp_path: Path, sandbox: SandboxServer, code: int) -> None:
    source = make_audio(tmp_path / "in", "wav", name="Aligned Song", seconds=1.5, sample_rate=44100,
                        song=Song(title="Aligned Song", artist="Tester"))
    facts = read_stream_facts(source)
    async with MVSepClient(SANDBOX_PREMIUM_TOKEN, base_url=sandbox.base_url) as client:
        runner = JobRunner(Journal(tmp_path / "journal.sqlite3"), sessions_after_job=no_sessions, **FAST)
        await runner.attach_account(ACCOUNT, client, concurrency=2)
        spec = make_spec(tmp_path, source, sep_type=20, options={}, base_url=sandbox.base_url, output_format=code)
        async with running(runner):
            [record] = await finish(runner, await runner.submit([spec]), budget=60)
    assert record.state is JobState.COMPLETED, record.error
    manifest = json.loads(Path(record.manifest_path or "").read_text())
    assert manifest["input"]["stream"]["frames"] == facts.frames
    ext = FORMAT_BY_CODE[code].ext
    for output, entry in zip(record.outputs, manifest["outputs"], strict=True):
        alignment = entry["alignment"]
        stem = read_stream_facts(Path(output.path))
        if ext in PCM:
            assert (stem.sample_rate, stem.channels, stem.frames) == (facts.sample_rate, facts.channels, facts.frames)
            assert alignment["exact"] is True, alignment
        elif (stem.sample_rate, stem.channels) != (facts.sample_rate, facts.channels):
            assert alignment.get("reason"), alignment  # the manifest says why not
        else:  # lossy: left as it is, its encoder delay and padding recorded (or why the length is not exact)
            assert alignment["status"] == "recorded", alignment
            assert "encoder_delay" in alignment["stem"] or alignment.get("reason"), alignment
            assert alignment["exact"] == ("encoder_delay" in alignment["stem"] and stem.frames == facts.frames)
        if ext == "wav":
            from wavinfo import WavInfoReader

            info = WavInfoReader(output.path)
            assert info.bext is not None and "Aligned Song" in info.bext.description
            assert info.ixml is not None and output.stem in [track.name for track in info.ixml.track_list]
            assert soundfile.info(output.path).frames == facts.frames  # still opens, still aligned
