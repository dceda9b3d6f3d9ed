"""What a ``POST /separation/create`` sends: :class:`SeparationRequest`.

Unlike the response models this one forbids unknown fields: a misspelt option name is silently ignored by MVSep,
so the request model refuses it loudly instead (and option names must look like ``add_optN``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mvsep_mcp.mvsep.formats import FORMAT_BY_CODE

RemoteType = Literal["direct", "mega", "drive", "dropbox"]
_OPTION_NAME = re.compile(r"^add_opt[1-9][0-9]*$")


class SeparationRequest(BaseModel):
    """One separation job. Give exactly one input kind, or none for text-only models (TTS, generation):

    - ``audiofile``: a local file (streamed from disk), or
    - ``url`` (+ ``remote_type``: direct | mega | drive | dropbox), or
    - ``target_audiofile`` + ``reference_audiofile`` (Matchering).

    ``sep_type`` is the algorithm's ``render_id``; ``options`` maps ``add_optN`` to an option key (or free text for
    text fields); ``output_format`` 0 mp3 320, 1 wav 16, 2 flac 16, 3 m4a, 4 wav 32f, 5 flac 24.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    sep_type: int = Field(ge=0)
    audiofile: Path | None = None
    url: str | None = None
    remote_type: RemoteType | None = None
    target_audiofile: Path | None = None
    reference_audiofile: Path | None = None
    options: dict[str, str] = Field(default_factory=dict)
    output_format: int = Field(default=0, ge=min(FORMAT_BY_CODE), le=max(FORMAT_BY_CODE))
    is_demo: bool = False

    @field_validator("options", mode="before")
    @classmethod
    def _options_as_text(cls, value: object) -> object:
        if isinstance(value, dict):
            return {str(k): ("" if v is None else str(v)) for k, v in value.items()}
        return value

    @field_validator("options")
    @classmethod
    def _option_names(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [k for k in value if not _OPTION_NAME.match(k)]
        if bad:
            raise ValueError(f"option names must look like add_opt1, add_opt2, ...; got {', '.join(sorted(bad))}")
        return value

    @field_validator("url")
    @classmethod
    def _url_shape(cls, value: str | None) -> str | None:
        if value is not None:
            value = value.strip()
            if not re.match(r"^https?://", value, re.IGNORECASE):
                raise ValueError("url must be an http:// or https:// link")
        return value

    @model_validator(mode="after")
    def _one_input_kind(self) -> SeparationRequest:
        matchering = self.target_audiofile is not None or self.reference_audiofile is not None
        if matchering and (self.target_audiofile is None or self.reference_audiofile is None):
            raise ValueError("Matchering needs both target_audiofile and reference_audiofile")
        kinds = [k for k, on in (("audiofile", self.audiofile is not None), ("url", self.url is not None),
                                 ("target_audiofile/reference_audiofile", matchering)) if on]
        if len(kinds) > 1:
            raise ValueError(f"give exactly one input kind, not {' and '.join(kinds)}")
        if self.remote_type is not None and self.url is None:
            raise ValueError("remote_type only applies together with url")
        return self

    @property
    def input_kind(self) -> Literal["file", "url", "matchering", "none"]:
        if self.audiofile is not None:
            return "file"
        if self.url is not None:
            return "url"
        if self.target_audiofile is not None:
            return "matchering"
        return "none"

    def upload_files(self) -> list[tuple[str, Path]]:
        """The (form field, path) pairs to stream, in sending order."""
        out: list[tuple[str, Path]] = []
        for name in ("audiofile", "target_audiofile", "reference_audiofile"):
            path = getattr(self, name)
            if path is not None:
                out.append((name, Path(path).expanduser()))
        return out

    def form_fields(self) -> dict[str, str]:
        """The text form fields (without ``api_token``, which the client adds)."""
        fields: dict[str, str] = {"sep_type": str(self.sep_type), "output_format": str(self.output_format)}
        if self.url is not None:
            fields["url"] = self.url
            fields["remote_type"] = self.remote_type or "direct"
        fields.update(self.options)
        fields["is_demo"] = "1" if self.is_demo else "0"
        return fields

    @property
    def display_name(self) -> str | None:
        """The input's file name (or the URL), for messages and :class:`AmbiguousCreateError`."""
        if self.audiofile is not None:
            return Path(self.audiofile).name
        if self.target_audiofile is not None:
            return Path(self.target_audiofile).name
        return self.url
