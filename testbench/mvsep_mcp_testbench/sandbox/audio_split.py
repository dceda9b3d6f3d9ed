"""Stem splitting for the sandbox: simple FFT-domain DSP whose stems sum back to the input.

Each stem key gets a frequency band (vocals: the centre channel band-passed 200-4000 Hz, bass below 150 Hz,
drums the high band, piano/guitar/strings/... their own bands, unknown keys a band chosen from the key's CRC).
One stem is the *residual*: the first of ``instrum``/``instrumental``/``other``/... when present, else the last one
listed; it is computed in the time domain as ``input - sum(other stems)``, so the stems always sum to the input
to floating-point precision before encoding.

The signal is processed as a stream: 50 %-overlapping blocks of ``BLOCK`` frames, each weighted by a periodic Hann
window (the windows sum to exactly 1), masked in the FFT domain and overlap-added. Memory stays bounded by a few
blocks whatever the input length. Bands are taken from what earlier stems left over (in a fixed priority order),
so masks never overlap and the residual is "everything not claimed".
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

BLOCK = 16384  # frames per FFT block (0.37 s at 44.1 kHz); hop is half of it
HOP = BLOCK // 2
_EDGE_OCTAVES = 0.25  # width of each soft band edge, in octaves

RESIDUAL_KEYS = ("instrum", "instrumental", "other", "others", "remainder", "residual", "rest", "accompaniment",
                 "music", "no_vocals", "novocals", "karaoke")


@dataclass(frozen=True)
class Band:
    """A frequency band in Hz; ``hi`` None means up to Nyquist; ``centre`` takes only the mid (L+R)/2 signal."""

    lo: float
    hi: float | None
    centre: bool = False


# Known keys, in the priority order in which they claim their band from what is left.
_KNOWN: tuple[tuple[tuple[str, ...], Band], ...] = (
    (("bass",), Band(0.0, 150.0)),
    (("kick",), Band(30.0, 150.0)),
    (("vocals", "vocal", "voice", "voices", "lead_vocals", "lead", "speech", "dialog", "dialogue", "sing"),
     Band(200.0, 4000.0, centre=True)),
    (("back_vocals", "backing_vocals", "backing", "choir"), Band(300.0, 3000.0)),
    (("drums", "drum", "percussion", "hihat", "hh", "cymbals", "ride", "crash", "overheads"), Band(4000.0, None)),
    (("snare",), Band(150.0, 400.0)),
    (("toms", "tom"), Band(80.0, 300.0)),
    (("piano", "keys", "keyboard", "organ", "rhodes"), Band(250.0, 2000.0)),
    (("guitar", "guitars", "electric_guitar", "acoustic_guitar", "lead_guitar", "rhythm_guitar", "mandolin",
      "banjo", "plucked"), Band(80.0, 1200.0)),
    (("strings", "violin", "viola", "cello", "contrabass", "bowed", "orchestra"), Band(190.0, 3500.0)),
    (("wind", "winds", "brass", "trumpet", "trombone", "sax", "saxophone", "flute", "clarinet", "oboe", "horn"),
     Band(250.0, 2500.0)),
    (("synth", "synthesizer", "pad", "lead_synth"), Band(100.0, 6000.0)),
    (("harp", "harpsichord", "bells", "glockenspiel", "marimba", "xylophone", "vibraphone"), Band(500.0, 5000.0)),
    (("reverb", "echo", "noise", "crowd", "ambience", "effects", "sfx", "fx"), Band(6000.0, None)),
)
_UNKNOWN_BANDS: tuple[Band, ...] = (
    Band(20.0, 60.0), Band(60.0, 250.0), Band(250.0, 500.0), Band(500.0, 1000.0),
    Band(1000.0, 2000.0), Band(2000.0, 4000.0), Band(4000.0, 8000.0), Band(8000.0, None),
)


def _norm(key: str) -> str:
    return key.strip().lower().replace("-", "_").replace(" ", "_")


def known_band(key: str) -> Band | None:
    """The band of a known stem key, or None."""
    norm = _norm(key)
    for names, band in _KNOWN:
        if norm in names:
            return band
    return None


def assign_bands(keys: list[str]) -> list[Band]:
    """A band per key: known keys their own; unknown keys distinct octave bands (start chosen by CRC-32)."""
    bands: list[Band] = []
    used: set[int] = set()
    for key in keys:
        band = known_band(key)
        if band is None:
            slot = zlib.crc32(_norm(key).encode("utf-8")) % len(_UNKNOWN_BANDS)
            if len(used) < len(_UNKNOWN_BANDS):
                while slot in used:
                    slot = (slot + 1) % len(_UNKNOWN_BANDS)
            used.add(slot)
            band = _UNKNOWN_BANDS[slot]
        bands.append(band)
    return bands


def residual_index(keys: list[str]) -> int:
    """Which stem receives ``input - sum(others)``: the first remainder-like key, else the last stem."""
    for i, key in enumerate(keys):
        if _norm(key) in RESIDUAL_KEYS:
            return i
    return len(keys) - 1


def _priority(key: str) -> int:
    norm = _norm(key)
    for rank, (names, _band) in enumerate(_KNOWN):
        if norm in names:
            return rank
    return len(_KNOWN)


def band_mask(band: Band, sample_rate: int, n: int = BLOCK) -> np.ndarray:
    """Soft (raised-cosine in log frequency) 0..1 mask over ``np.fft.rfftfreq(n, 1/sample_rate)`` bins."""
    freqs = np.fft.rfftfreq(n, 1.0 / sample_rate)
    logf = np.log2(np.maximum(freqs, 1e-3))
    mask = np.ones_like(freqs)

    def ramp(edge_hz: float) -> np.ndarray:
        pos = (logf - np.log2(edge_hz)) / _EDGE_OCTAVES + 0.5  # 0 below the edge region, 1 above
        pos = np.clip(pos, 0.0, 1.0)
        return np.asarray(0.5 - 0.5 * np.cos(np.pi * pos))

    if band.lo > 0:
        mask *= ramp(band.lo)
    if band.hi is not None and band.hi < sample_rate / 2:
        mask *= 1.0 - ramp(band.hi)
    return mask


class StemSplitter:
    """Streams (frames, channels) blocks in; yields ``(input_chunk, stems)`` with ``stems`` shaped (K, frames, ch).

    ``stems[residual]`` equals ``input_chunk - sum(other stems)`` exactly (float64). Chunks come out in order and
    together cover the input frame for frame.
    """

    def __init__(self, keys: list[str], sample_rate: int, channels: int) -> None:
        if not keys:
            raise ValueError("at least one stem is needed")
        self.keys = list(keys)
        self.sample_rate = sample_rate
        self.channels = channels
        self.residual = residual_index(self.keys)
        others = [i for i in range(len(self.keys)) if i != self.residual]
        self._order = sorted(others, key=lambda i: (_priority(self.keys[i]), i))
        assigned = assign_bands([self.keys[i] for i in others])
        self._bands = dict(zip(others, assigned, strict=True))
        self._masks = {i: band_mask(self._bands[i], sample_rate)[:, None] for i in others}
        n = np.arange(BLOCK)
        self._window = (0.5 - 0.5 * np.cos(2 * np.pi * n / BLOCK))[:, None]  # periodic Hann: w[n] + w[n+HOP] = 1

    def _split_block(self, segment: np.ndarray) -> np.ndarray:
        """Masked, windowed FFT split of one BLOCK-frame segment: (K, BLOCK, ch), residual slot left at zero."""
        out = np.zeros((len(self.keys), BLOCK, self.channels))
        if not self._order:
            return out
        remaining = np.fft.rfft(segment * self._window, axis=0)
        for i in self._order:
            mask = self._masks[i]
            if self._bands[i].centre and self.channels == 2:
                mid = remaining.mean(axis=1, keepdims=True)
                claimed = np.repeat(mask * mid, 2, axis=1)
            else:
                claimed = mask * remaining
            remaining = remaining - claimed
            out[i] = np.fft.irfft(claimed, n=BLOCK, axis=0)
        return out

    def process(self, blocks: Iterable[np.ndarray]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Split a stream of (frames, channels) float blocks; see the class docstring."""
        k = len(self.keys)
        pending = np.zeros((HOP, self.channels))  # input from position `start`; starts with HOP frames of padding
        start = -HOP  # stream position of pending[0] (negative = padding)
        acc = np.zeros((k, BLOCK, self.channels))  # overlap-add accumulator aligned with `start`
        total = 0
        exhausted = False
        source = iter(blocks)
        while True:
            while not exhausted and pending.shape[0] < BLOCK:
                try:
                    block = next(source)
                except StopIteration:
                    exhausted = True
                    break
                if block.size:
                    block = np.asarray(block, dtype=np.float64).reshape(-1, self.channels)
                    pending = np.concatenate([pending, block])
                    total += block.shape[0]
            if exhausted:
                if start >= total:
                    return
                if pending.shape[0] < BLOCK:
                    pad = np.zeros((BLOCK - pending.shape[0], self.channels))
                    pending = np.concatenate([pending, pad])
            acc += self._split_block(pending[:BLOCK])
            # Frames [start, start + HOP) now have both of their windows' contributions.
            lo = max(0, -start)
            hi = min(HOP, total - start) if exhausted else HOP
            if hi > lo:
                x = pending[lo:hi]
                stems = acc[:, lo:hi].copy()
                stems[self.residual] = x - (stems.sum(axis=0) - stems[self.residual])
                yield x, stems
            acc = np.concatenate([acc[:, HOP:], np.zeros((k, HOP, self.channels))], axis=1)
            pending = pending[HOP:]
            start += HOP


def split_array(audio: np.ndarray, keys: list[str], sample_rate: int) -> np.ndarray:
    """Convenience: split a whole (frames, channels) array at once into (K, frames, channels) float64."""
    splitter = StemSplitter(keys, sample_rate, audio.shape[1])
    chunks = [stems for _x, stems in splitter.process([audio])]
    if not chunks:
        return np.zeros((len(keys), 0, audio.shape[1]))
    return np.concatenate(chunks, axis=1)
