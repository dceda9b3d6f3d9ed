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


OUTPUT_FORMATS: tuple[OutputFormat, ...] = (
    OutputFormat("mp3", 0, "mp3 (320 kbps)", "mp3"),
    OutputFormat("wav", 1, "wav (16 bit)", "wav"),
    OutputFormat("flac", 2, "flac (16 bit)", "flac"),
    OutputFormat("m4a", 3, "m4a", "m4a"),
    OutputFormat("wav32", 4, "wav (32 bit float)", "wav"),
    OutputFormat("flac24", 5, "flac (24 bit)", "flac"),
)
FORMAT_BY_NAME: dict[str, OutputFormat] = {f.name: f for f in OUTPUT_FORMATS}
FORMAT_BY_CODE: dict[int, OutputFormat] = {f.code: f for f in OUTPUT_FORMATS}
FORMAT_NAMES: tuple[str, ...] = get_args(OutputFormatName)
DEFAULT_FORMAT: OutputFormatName = "flac"

assert FORMAT_NAMES == tuple(FORMAT_BY_NAME), "OutputFormatName and OUTPUT_FORMATS must list the same names"
