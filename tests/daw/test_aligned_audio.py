"""Files read side by side: one rate, channel count and length, fixed blocks, the start never moved."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from mvsep_mcp.daw.aligned_audio import Layout, aligned_blocks, fixed_blocks, lockstep
from mvsep_mcp.daw.errors import DawError

from tests.daw.conftest import FRAMES, RATE, write_pcm


def test_fixed_blocks_cut_and_pad_to_the_length_asked() -> None:
    ragged = [np.ones((n, 2), dtype=np.float32) for n in (3, 7, 1, 5)]  # 16 frames
    longer = list(fixed_blocks(iter(ragged), 20, 2, block_frames=6))
    assert [len(b) for b in longer] == [6, 6, 6, 2]
    assert np.concatenate(longer)[:16].min() == 1 and not np.concatenate(longer)[16:].any()
    shorter = list(fixed_blocks(iter(ragged), 10, 2, block_frames=4))
    assert [len(b) for b in shorter] == [4, 4, 2] and np.concatenate(shorter).min() == 1
    assert [len(b) for b in fixed_blocks(iter([]), 5, 1, block_frames=4)] == [4, 1]


def test_lockstep_gives_a_block_of_each_file_per_step(tmp_path: Path) -> None:
    stereo = write_pcm(tmp_path / "a.wav", FRAMES)
    write_pcm(tmp_path / "mono.wav", FRAMES - 10, channels=1)
    mono, _ = sf.read(str(tmp_path / "mono.wav"), dtype="float32")
    with lockstep([tmp_path / "a.wav", tmp_path / "mono.wav"], Layout(RATE, 2, FRAMES), block_frames=4096) as rows:
        steps = list(rows)
    assert all(len(a) == len(b) for a, b in steps) and sum(len(a) for a, _ in steps) == FRAMES
    left = np.concatenate([a for a, _ in steps])
    spread = np.concatenate([b for _, b in steps])
    assert np.abs(left - stereo).max() < 1e-4
    assert np.array_equal(spread[: FRAMES - 10, 0], mono) and np.array_equal(spread[:, 0], spread[:, 1])
    assert not spread[FRAMES - 10:].any()


def test_another_rate_is_resampled_to_the_same_length_and_timing(tmp_path: Path) -> None:
    rate = 48_000
    t = np.arange(rate) / rate
    sf.write(str(tmp_path / "hi.wav"), np.column_stack([np.sin(2 * np.pi * 440 * t)] * 2), rate)
    with aligned_blocks(tmp_path / "hi.wav", Layout(RATE, 2, RATE)) as blocks:
        out = np.concatenate(list(blocks))
    expected = np.sin(2 * np.pi * 440 * np.arange(RATE) / RATE)
    assert len(out) == RATE and np.abs(out[1000:-1000, 0] - expected[1000:-1000]).max() < 1e-2


def test_channel_counts_that_do_not_fold_are_refused(tmp_path: Path) -> None:
    write_pcm(tmp_path / "six.wav", 1000, channels=6)
    with pytest.raises(DawError, match="six.wav has 6 channels and the song 2"), \
            aligned_blocks(tmp_path / "six.wav", Layout(RATE, 2, 1000)) as blocks:
        list(blocks)
