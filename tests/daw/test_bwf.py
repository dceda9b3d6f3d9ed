"""BWF bext and iXML in WAV stems, read back with wavinfo; the files still play and keep their ID3 tags."""

from __future__ import annotations

import struct
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from mutagen.id3 import APIC, TIT2, TXXX
from mutagen.wave import WAVE
from mvsep_mcp.daw.bwf import Provenance, ascii_fold, build_bext, write_provenance
from mvsep_mcp.daw.errors import NotAWave
from mvsep_mcp.daw.riff import read_layout
from mvsep_mcp.media import TrackTags, write_stem_tags
from wavinfo import WavInfoReader

from tests.audio_factory import png_cover
from tests.daw.conftest import write_pcm

WHEN = datetime(2025, 3, 4, 5, 6, 7)
PROVENANCE = Provenance(song="Beyoncé – 東京 Nights", stem="Vocals", model="BS Roformer (ver. 2024.08)",
                        job="j7f3a9c2", created=WHEN)


def _id3_tag(path: Path) -> None:
    write_stem_tags(path, TrackTags(title="Beyoncé – 東京 Nights", artist="Artist"), stem="Vocals",
                    model=PROVENANCE.model, fmt="wav")


def _check(path: Path, frames: int, channels: int = 2) -> None:
    info = WavInfoReader(str(path))
    assert info.bext is not None and info.ixml is not None
    bext = info.bext
    assert bext.description == "Beyonce ? ?? Nights - Vocals - separated by MVSep (BS Roformer (ver. 2024.08))"
    assert (bext.originator, bext.originator_ref) == ("mvsep-mcp", "j7f3a9c2")
    assert (bext.originator_date, bext.originator_time) == ("2025-03-04", "05:06:07")
    assert bext.time_reference == 0 and bext.version == 1
    assert bext.coding_history.startswith(f"A=PCM,F=44100,W={info.fmt.bits_per_sample},M=")
    assert bext.coding_history.endswith("\r\n")
    ixml = info.ixml
    assert ixml.project == "Beyoncé – 東京 Nights"
    tracks = list(ixml.track_list)
    assert [t.name for t in tracks] == ["Vocals"] * channels
    assert [t.channel_index for t in tracks] == [str(i) for i in range(1, channels + 1)]
    assert ixml.raw_xml.findtext("BEXT/BWF_DESCRIPTION") == PROVENANCE.description
    assert "MVSEP_JOB=j7f3a9c2" in (ixml.raw_xml.findtext("USER") or "")
    assert sf.info(str(path)).frames == frames


@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24", "FLOAT"])
def test_provenance_then_tags(tmp_path: Path, subtype: str) -> None:
    path = tmp_path / "stem.wav"
    audio = write_pcm(path, 4410, subtype=subtype)
    write_provenance(path, PROVENANCE)
    _id3_tag(path)
    _check(path, 4410)
    tags = WAVE(path).tags
    assert tags is not None and str(tags["TIT2"]) == "Beyoncé – 東京 Nights (Vocals)"
    assert str(tags["TXXX:MVSEP_MODEL"]) == PROVENANCE.model
    decoded = sf.read(str(path), dtype="float32")[0]
    tolerance = 1e-7 if subtype == "FLOAT" else 2.0 / 2**15
    assert np.abs(decoded - audio).max() <= tolerance


def test_tags_then_provenance(tmp_path: Path) -> None:
    path = tmp_path / "stem.wav"
    write_pcm(path, 4410, subtype="PCM_24")
    _id3_tag(path)
    wave = WAVE(path)
    assert wave.tags is not None
    wave.tags.add(APIC(encoding=3, mime="image/png", type=3, desc="Cover", data=png_cover()))
    wave.save()
    write_provenance(path, PROVENANCE)
    _check(path, 4410)
    tags = WAVE(path).tags
    assert tags is not None and tags.getall("APIC")[0].data == png_cover()
    ids = [c.id for c in read_layout(path).chunks]
    assert ids.index(b"bext") < ids.index(b"data") and ids.index(b"iXML") < ids.index(b"data")
    assert ids.count(b"id3 ") + ids.count(b"ID3 ") == 1


def test_writing_twice_replaces_the_chunks(tmp_path: Path) -> None:
    path = tmp_path / "stem.wav"
    write_pcm(path, 100)
    write_provenance(path, Provenance(song="Old", stem="Bass", model="m", created=WHEN))
    write_provenance(path, PROVENANCE)
    ids = [c.id for c in read_layout(path).chunks]
    assert ids.count(b"bext") == 1 and ids.count(b"iXML") == 1
    _check(path, 100)


def test_retagging_after_provenance_keeps_it(tmp_path: Path) -> None:
    path = tmp_path / "stem.wav"
    write_pcm(path, 100)
    write_provenance(path, PROVENANCE)
    _id3_tag(path)
    wave = WAVE(path)
    assert wave.tags is not None
    wave.tags.add(TXXX(encoding=3, desc="LONG", text=["x" * 5000]))  # the ID3 chunk grows
    wave.tags.add(TIT2(encoding=3, text=["Renamed"]))
    wave.save()
    _check(path, 100)


@pytest.mark.parametrize("channels", [1, 6])
def test_channel_counts(tmp_path: Path, channels: int) -> None:
    path = tmp_path / "stem.wav"
    write_pcm(path, 50, channels=channels, subtype="PCM_24")
    write_provenance(path, PROVENANCE)
    _check(path, 50, channels)
    mode = "mono" if channels == 1 else "6ch"
    assert f"M={mode}," in WavInfoReader(str(path)).bext.coding_history  # type: ignore[union-attr]


def test_bext_layout_and_field_limits(tmp_path: Path) -> None:
    path = tmp_path / "stem.wav"
    write_pcm(path, 10)
    long = Provenance(song="S" * 400, stem="Vocals", model="m", job="J" * 40, created=WHEN)
    payload = build_bext(long, read_layout(path).format)
    assert len(payload) % 2 == 0 and len(payload) > 602
    assert payload[:256] == b"S" * 256 and payload[288:320] == b"J" * 32
    assert struct.unpack("<IIH", payload[338:348]) == (0, 0, 1)
    assert payload[348:602] == b"\x00" * 254  # no UMID, reserved bytes zero


def test_ascii_fold() -> None:
    assert ascii_fold("Beyoncé Ñandú") == "Beyonce Nandu"
    assert ascii_fold("Ｆｕｌｌ ｗｉｄｔｈ") == "Full width"
    assert ascii_fold("東京\ttab") == "?? tab"


def test_not_a_wave(tmp_path: Path) -> None:
    path = tmp_path / "stem.flac"
    write_pcm(path, 10)
    with pytest.raises(NotAWave):
        write_provenance(path, PROVENANCE)
    assert sf.info(str(path)).frames == 10
