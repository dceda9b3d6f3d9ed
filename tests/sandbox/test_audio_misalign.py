"""The sandbox's realistic misalignment: stems a few ms long or short, MP3s without a gapless header, exact M4A."""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf
from mvsep_mcp.daw.stream_facts import read_stream_facts
from mvsep_mcp_testbench.sandbox import SANDBOX_PREMIUM_TOKEN, SandboxServer
from mvsep_mcp_testbench.sandbox.audio import Misalignment, decode, render_stems
from mvsep_mcp_testbench.sandbox.audio_misalign import LengthChangingWriter

from tests.audio_factory import make_audio
from tests.sandbox.conftest import create, poll

FOUR = [("vocals", "Vocals"), ("bass", "Bass"), ("drums", "Drums"), ("other", "Other")]
RATE = 44100


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_audio(tmp_path_factory.mktemp("in"), "flac", seconds=1.5)


def test_misalignment_rules() -> None:
    plan = Misalignment()
    assert [plan.length_error_frames(i, RATE) for i in range(5)] == [0, 176, -110, 485, 0]
    assert [plan.mp3_gapless_header(i) for i in range(4)] == [True, False, True, False]
    assert Misalignment(length_errors_ms=(), mp3_headerless_every=0).length_error_frames(3, RATE) == 0
    assert all(Misalignment(mp3_headerless_every=0).mp3_gapless_header(i) for i in range(4))


@pytest.mark.parametrize("code", [1, 2, 4, 5])
def test_pcm_stems_are_a_few_ms_off(source: Path, tmp_path: Path, code: int) -> None:
    plan = Misalignment()
    exact = render_stems(source, FOUR, code, tmp_path / "exact", "s")
    off = render_stems(source, FOUR, code, tmp_path / "off", "s", misalignment=plan)
    for index, (good, bad) in enumerate(zip(exact, off, strict=True)):
        good_audio, bad_audio = decode(good.path)[0], decode(bad.path)[0]
        assert bad_audio.shape[0] == good_audio.shape[0] + plan.length_error_frames(index, RATE)
        keep = min(good_audio.shape[0], bad_audio.shape[0])
        np.testing.assert_array_equal(bad_audio[:keep], good_audio[:keep])  # the same stem, only longer or shorter
        assert not bad_audio[keep:].any()


def test_mp3_stems_alternate_gapless_headers(source: Path, tmp_path: Path) -> None:
    rendered = render_stems(source, FOUR, 0, tmp_path, "s", misalignment=Misalignment())
    facts = [read_stream_facts(stem.path) for stem in rendered]
    assert [f.gapless_source for f in facts] == ["lame", None, "lame", None]
    assert facts[0].frames == 66150 and facts[2].frames == 66150 - 110
    assert sf.info(str(rendered[1].path)).frames > 66150 + 176  # a decoder plays the encoder delay and padding


def test_m4a_stems_are_sample_exact(source: Path, tmp_path: Path) -> None:
    rendered = render_stems(source, FOUR, 3, tmp_path, "s", misalignment=Misalignment())
    lengths = [read_stream_facts(stem.path) for stem in rendered]
    assert all(f.frames_exact and f.gapless_source == "edit_list" for f in lengths)
    assert [f.frames for f in lengths] == [66150 + Misalignment().length_error_frames(i, RATE) for i in range(4)]
    assert [decode(stem.path)[0].shape[0] for stem in rendered] == [f.frames for f in lengths]


class _Collect:
    def __init__(self) -> None:
        self.blocks: list[np.ndarray] = []
        self.closed = False

    def write(self, block: np.ndarray) -> None:
        self.blocks.append(block)

    def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize("delta", [-7, -1, 0, 5])
def test_length_changing_writer_streams(delta: int) -> None:
    inner = _Collect()
    writer = LengthChangingWriter(inner, delta)
    data = np.arange(40, dtype=np.int64).reshape(20, 2)
    for start in range(0, 20, 3):  # blocks smaller than the cut
        writer.write(data[start:start + 3])
    writer.close()
    out = np.concatenate(inner.blocks)
    assert inner.closed and out.shape == (20 + delta, 2) and out.dtype == np.int64
    np.testing.assert_array_equal(out[:min(20, 20 + delta)], data[:min(20, 20 + delta)])


def test_sandbox_state_misaligns_by_default(api: httpx.Client, sandbox: SandboxServer, tmp_path: Path) -> None:
    song = make_audio(tmp_path / "in", "wav", seconds=1.0)
    assert sandbox.state.misalignment == Misalignment()
    lengths = {}
    for label, plan in (("on", Misalignment()), ("off", None)):
        sandbox.state.misalignment = plan
        job = create(api, SANDBOX_PREMIUM_TOKEN, song, output_format="1").json()["data"]["hash"]
        files = poll(api, job)[0]["data"]["files"]
        lengths[label] = []
        for index, item in enumerate(files):
            path = tmp_path / f"{label}{index}.wav"
            path.write_bytes(httpx.get(item["url"]).content)
            lengths[label].append(sf.info(str(path)).frames)
    assert lengths["off"] == [RATE] * len(lengths["off"])
    assert lengths["on"] == [RATE + Misalignment().length_error_frames(i, RATE) for i in range(len(lengths["on"]))]
