"""Provenance inside WAV stems: a Broadcast Wave ``bext`` chunk and an ``iXML`` chunk.

``write_provenance(path, Provenance(song=…, stem=…, model=…))`` puts both into a WAV file (replacing earlier ones),
just before its ``data`` chunk, and keeps every other chunk byte for byte (``riff.rewrite_wave``). Written here
because no maintained Python library writes ``bext``; ``wavinfo`` reads them back in the tests.

- ``bext`` (EBU Tech 3285, version 1): Description "<song> - <stem> - separated by MVSep (<model>)", Originator
  ``mvsep-mcp``, OriginatorReference (the job), origination date and time, TimeReference 0 (a stem starts where the
  song starts), no UMID, and a CodingHistory line in EBU R98 style (``A=PCM,F=44100,W=24,M=stereo,T=…``). Its
  text fields are fixed-size ASCII: names are folded to ASCII there (accents dropped, other letters as ``?``).
- ``iXML`` (UTF-8, the full names): PROJECT = song, NOTE, one TRACK per channel named after the stem, a ``BEXT``
  block mirroring the description in UTF-8, and USER text naming the model and job.

Order with tags: either order works. mutagen's ID3 writer finds its ``id3 `` chunk wherever it is (or appends one),
and this writer copies an ``id3 `` chunk untouched, so "tag, then provenance" and "provenance, then tag" give the
same chunks. Alignment (``pcm_length.set_wave_frames``) keeps ``bext``/``iXML`` too.
"""

from __future__ import annotations

import struct
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from mvsep_mcp.daw.riff import FORMAT_IEEE_FLOAT, Part, WaveFormat, read_layout, rewrite_wave
from mvsep_mcp.daw.riff_insert import insert_before_data

ORIGINATOR = "mvsep-mcp"
BEXT_VERSION = 1
IXML_VERSION = "2.10"
_BEXT_FIELDS = "<256s32s32s10s8sIIH64s190s"  # description … UMID, then the reserved bytes of version 1
_CHANNEL_FUNCTIONS = {1: ("",), 2: ("L", "R")}


def ascii_fold(text: str) -> str:
    """``text`` in printable ASCII: accents dropped (``Beyoncé`` → ``Beyonce``), other characters as ``?``."""
    out = []
    for char in unicodedata.normalize("NFKD", text):
        if unicodedata.combining(char):
            continue
        if " " <= char <= "~":
            out.append(char)
        elif char in "\t\r\n":
            out.append(" ")
        else:
            out.append("?")
    return "".join(out)


def _fixed(text: str, size: int) -> bytes:
    return ascii_fold(text).encode("ascii")[:size]


@dataclass(frozen=True)
class Provenance:
    """Where a stem came from. ``created`` defaults to now (local time, as BWF expects)."""

    song: str
    stem: str
    model: str
    job: str | None = None  # the job's id or MVSep hash: the bext OriginatorReference (ASCII, 32 characters)
    originator: str = ORIGINATOR
    created: datetime = field(default_factory=lambda: datetime.now().astimezone())
    note: str | None = None  # extra free text for iXML's NOTE

    @property
    def description(self) -> str:
        return f"{self.song} - {self.stem} - separated by MVSep ({self.model})"


def _coding_history(fmt: WaveFormat, provenance: Provenance) -> str:
    mode = {1: "mono", 2: "stereo"}.get(fmt.channels, f"{fmt.channels}ch")
    kind = "IEEE float; " if fmt.format_tag == FORMAT_IEEE_FLOAT else ""
    text = ascii_fold(f"{kind}MVSep {provenance.model}; {provenance.stem} stem of {provenance.song}").replace(",", ";")
    return f"A=PCM,F={fmt.sample_rate},W={fmt.bits_per_sample},M={mode},T={text}\r\n"


def build_bext(provenance: Provenance, fmt: WaveFormat) -> bytes:
    """The ``bext`` payload (602 fixed bytes, then the coding history, NUL-terminated to an even size)."""
    created = provenance.created
    fixed = struct.pack(
        _BEXT_FIELDS,
        _fixed(provenance.description, 256),
        _fixed(provenance.originator, 32),
        _fixed(provenance.job or "", 32),
        created.strftime("%Y-%m-%d").encode("ascii"),
        created.strftime("%H:%M:%S").encode("ascii"),
        0, 0,  # TimeReference low and high: the stem starts at the song's first sample
        BEXT_VERSION,
        b"",  # no UMID
        b"",
    )
    history = _coding_history(fmt, provenance).encode("ascii") + b"\x00"
    if len(history) % 2:
        history += b"\x00"
    return fixed + history


def build_ixml(provenance: Provenance, fmt: WaveFormat) -> bytes:
    """The ``iXML`` payload: UTF-8 XML with the full song and stem names."""
    root = ET.Element("BWFXML")
    ET.SubElement(root, "IXML_VERSION").text = IXML_VERSION
    ET.SubElement(root, "PROJECT").text = provenance.song
    ET.SubElement(root, "NOTE").text = provenance.note or provenance.description
    tracks = ET.SubElement(root, "TRACK_LIST")
    ET.SubElement(tracks, "TRACK_COUNT").text = str(fmt.channels)
    functions = _CHANNEL_FUNCTIONS.get(fmt.channels, ("",) * fmt.channels)
    for index in range(1, fmt.channels + 1):
        track = ET.SubElement(tracks, "TRACK")
        ET.SubElement(track, "CHANNEL_INDEX").text = str(index)
        ET.SubElement(track, "INTERLEAVE_INDEX").text = str(index)
        ET.SubElement(track, "NAME").text = provenance.stem
        ET.SubElement(track, "FUNCTION").text = functions[index - 1] if index <= len(functions) else ""
    bext = ET.SubElement(root, "BEXT")
    ET.SubElement(bext, "BWF_DESCRIPTION").text = provenance.description
    ET.SubElement(bext, "BWF_ORIGINATOR").text = provenance.originator
    ET.SubElement(bext, "BWF_ORIGINATOR_REFERENCE").text = provenance.job or ""
    ET.SubElement(bext, "BWF_ORIGINATION_DATE").text = provenance.created.strftime("%Y-%m-%d")
    ET.SubElement(bext, "BWF_ORIGINATION_TIME").text = provenance.created.strftime("%H:%M:%S")
    ET.SubElement(bext, "BWF_TIME_REFERENCE_LOW").text = "0"
    ET.SubElement(bext, "BWF_TIME_REFERENCE_HIGH").text = "0"
    user = f"MVSEP_MODEL={provenance.model}\nMVSEP_STEM={provenance.stem}"
    if provenance.job:
        user += f"\nMVSEP_JOB={provenance.job}"
    ET.SubElement(root, "USER").text = user
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    payload = b'<?xml version="1.0" encoding="UTF-8"?>\n' + body
    return payload + b"\x00" if len(payload) % 2 else payload


def write_provenance(path: Path, provenance: Provenance, *, digest: Any | None = None, durable: bool = True,
                     in_place: bool = False) -> bool:
    """Put ``bext`` and ``iXML`` (replacing earlier ones) before the ``data`` chunk of the WAV file ``path``.

    Raises ``NotAWave`` for anything but a plain RIFF/WAVE file; the file is replaced atomically. ``digest`` and
    ``durable`` as for ``riff.rewrite_wave`` (hash the new file as it is written; skip the fsync). ``in_place``: for
    a file nobody else reads yet, make room before the audio where it lies (``riff_insert``) instead of copying it,
    where the system allows. Returns True when the file was rewritten (``digest`` then holds its hash), False when
    it was edited in place (``digest`` untouched: hash the file).
    """
    layout = read_layout(path)
    bext = Part(b"bext", data=build_bext(provenance, layout.format))
    ixml = Part(b"iXML", data=build_ixml(provenance, layout.format))
    if in_place and insert_before_data(path, layout, (bext, ixml), replace=(b"bext", b"iXML"), durable=durable):
        return False
    parts: list[Part] = []
    for chunk in layout.chunks:
        if chunk.id in (b"bext", b"iXML"):
            continue
        if chunk.id == b"data":
            parts.extend((bext, ixml))
        parts.append(Part.copy(chunk))
    rewrite_wave(path, parts, digest=digest, durable=durable)
    return True
