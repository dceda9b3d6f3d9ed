"""Is a downloaded file the audio that was promised? Checked before it may become a stem.

A file passes when it is not text (JSON, HTML, XML: what error pages are made of), mutagen reads it as the promised
format, its audio runs whole to its end (:mod:`mvsep_mcp.media.complete`: a file cut short keeps a header that
promises the whole length), and its duration is close to the input's. Otherwise :class:`StemRejected` says what
arrived instead, in words a user can act on.

The size MVSep announced (a text such as ``"5.84 MB"``) is only a hint: complete audio of the right length whose size
disagrees with it is kept, with a warning (``VerifiedAudio.warnings``, written into the manifest).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from mvsep_mcp.media.complete import Incomplete, complete_audio
from mvsep_mcp.media.errors import MediaError, UnsupportedAudio
from mvsep_mcp.media.probe import probe
from mvsep_mcp.policy import STEM_DURATION_SLACK_FRACTION, STEM_DURATION_SLACK_S, STEM_SIZE_SLACK_FRACTION

# the formats mutagen may report for a file of each extension MVSep serves
ACCEPTED_FORMATS: dict[str, frozenset[str]] = {
    "mp3": frozenset({"mp3"}),
    "flac": frozenset({"flac"}),
    "wav": frozenset({"wav"}),
    "m4a": frozenset({"m4a"}),
    "mp4": frozenset({"m4a"}),
    "ogg": frozenset({"ogg", "opus"}),
    "opus": frozenset({"opus", "ogg"}),
}
_SIZE_TEXT = re.compile(r"^\s*([0-9]+(?:[.,][0-9]+)?)\s*([KMGT]?i?B|bytes?)\s*$", re.IGNORECASE)
_UNITS = {"": 0, "K": 1, "M": 2, "G": 3, "T": 4}


class StemRejected(MediaError):
    """A downloaded file is not the audio that was promised (an error page, a truncated or foreign file)."""


@dataclass(frozen=True)
class VerifiedAudio:
    format: str
    duration_s: float | None
    sample_rate: int | None
    channels: int | None
    size: int
    warnings: tuple[str, ...] = field(default_factory=tuple)  # what disagreed without making the file unusable


def what_arrived(path: Path) -> str:
    """A few words on what a file holds, for a message: "an empty file", "412 bytes of JSON", "an HTML page"…"""
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(512).lstrip(b"\xef\xbb\xbf \t\r\n")
    if size == 0:
        return "an empty file"
    if head[:1] in (b"{", b"["):
        return f"{size} bytes of JSON (an error message, not audio)"
    lowered = head[:200].lower()
    if lowered.startswith((b"<!doctype html", b"<html")) or b"<html" in lowered or b"<body" in lowered:
        return f"an HTML page of {size} bytes (an error or login page, not audio)"
    if head[:1] == b"<":
        return f"{size} bytes of XML or HTML, not audio"
    return f"{size} bytes that are not readable audio"


def parse_size_text(text: str | None) -> tuple[float, int] | None:
    """``"5.84 MB"`` → (5.84, 2): the number and the power of the unit (bytes 0, KB 1, MB 2…); None if unreadable."""
    match = _SIZE_TEXT.match(text or "")
    if not match:
        return None
    number = float(match.group(1).replace(",", "."))
    unit = match.group(2).upper()
    return number, 0 if unit.startswith("BYTE") else _UNITS.get(unit[0] if unit[0] != "B" else "", 0)


def announced_bytes(text: str | None) -> int | None:
    """The most bytes MVSep's size text can mean (``"5.84 MB"``: 1024-based units), or None when unreadable."""
    parsed = parse_size_text(text)
    if parsed is None:
        return None
    number, power = parsed
    return int(number * 1024**power)


def size_agrees(actual: int, announced: str | None) -> bool:
    """Whether ``actual`` bytes fit MVSep's rounded size text, under either 1000- or 1024-based units."""
    parsed = parse_size_text(announced)
    if parsed is None:
        return True  # nothing (readable) was announced
    number, power = parsed
    if power == 0:
        return actual == int(number)
    for base in (1000, 1024):
        unit = base**power
        slack = 0.005 * unit + STEM_SIZE_SLACK_FRACTION * number * unit  # rounding to 2 decimals, plus a margin
        if abs(actual - number * unit) <= slack:
            return True
    return False


def verify_audio(
    path: Path,
    *,
    ext: str,
    label: str,
    announced_size: str | None = None,
    expected_duration: float | None = None,
) -> VerifiedAudio:
    """Check ``path`` is whole ``ext`` audio of the expected length; raises :class:`StemRejected` otherwise (a size
    other than ``announced_size`` is a warning in the result)."""
    path = Path(path)
    promised = f"the {label} file ({ext})"
    head = what_arrived(path)
    if not head.endswith("not readable audio") or path.stat().st_size == 0:
        raise StemRejected(f"{promised} arrived as {head}")
    try:
        info = probe(path)
    except UnsupportedAudio:
        raise StemRejected(f"{promised} arrived as {head}") from None
    accepted = ACCEPTED_FORMATS.get(ext.lower(), frozenset({ext.lower()}))
    if info.format not in accepted:
        raise StemRejected(f"{promised} arrived as {info.format} audio instead")
    try:
        complete_audio(path, info.format)
    except Incomplete as exc:
        raise StemRejected(f"{promised} is incomplete: {exc.message}") from None
    if expected_duration and info.duration_s is not None:
        slack = max(STEM_DURATION_SLACK_S, STEM_DURATION_SLACK_FRACTION * expected_duration)
        if abs(info.duration_s - expected_duration) > slack:
            raise StemRejected(
                f"{promised} lasts {info.duration_s:.1f} s where the input lasts {expected_duration:.1f} s"
            )
    warnings = () if size_agrees(info.size_bytes, announced_size) else (
        f"{info.size_bytes} bytes where MVSep announced {announced_size}: kept, the audio is complete",)
    return VerifiedAudio(format=info.format, duration_s=info.duration_s, sample_rate=info.sample_rate,
                         channels=info.channels, size=info.size_bytes, warnings=warnings)
