"""MVSep's output formats: the one table every layer reads (setting names, API codes, labels, file extensions)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

OutputFormatName = Literal["mp3", "wav", "flac", "m4a", "wav32", "flac24"]


@dataclass(frozen=True)
class OutputFormat:
    name: OutputFormatName  # what users and settings call it
    code: int  # MVSep's ``output_format``
    label: str  # what it is, for people
    ext: str  # the extension MVSep's files carry
    mime: str  # the files' media type
    bytes_per_s: int  # about what a second of a stereo 44.1 kHz stem takes (FLAC: a typical 70 % of the PCM)


OUTPUT_FORMATS: tuple[OutputFormat, ...] = (
    OutputFormat("mp3", 0, "mp3 (320 kbps)", "mp3", "audio/mpeg", 40_000),
    OutputFormat("wav", 1, "wav (16 bit)", "wav", "audio/wav", 176_400),
    OutputFormat("flac", 2, "flac (16 bit)", "flac", "audio/flac", 123_480),
    OutputFormat("m4a", 3, "m4a", "m4a", "audio/mp4", 40_000),
    OutputFormat("wav32", 4, "wav (32 bit float)", "wav", "audio/wav", 352_800),
    OutputFormat("flac24", 5, "flac (24 bit)", "flac", "audio/flac", 185_220),
)
FORMAT_BY_NAME: dict[str, OutputFormat] = {f.name: f for f in OUTPUT_FORMATS}
FORMAT_BY_CODE: dict[int, OutputFormat] = {f.code: f for f in OUTPUT_FORMATS}
MIME_BY_EXT: dict[str, str] = {f.ext: f.mime for f in OUTPUT_FORMATS}
FORMAT_NAMES: tuple[str, ...] = get_args(OutputFormatName)
DEFAULT_FORMAT: OutputFormatName = "flac"

assert FORMAT_NAMES == tuple(FORMAT_BY_NAME), "OutputFormatName and OUTPUT_FORMATS must list the same names"
