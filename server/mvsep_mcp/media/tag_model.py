"""The tags of one track as the product uses them: ``TrackTags`` and its ``CoverArt``.

Format-neutral: the readers (``tag_read``, ``tag_getid3``) fill it, the writer (``tag_write``) puts it on stems.
Text fields are stripped strings or None (never ""), so "is this field set?" is simply ``is not None``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

TEXT_FIELDS = ("title", "artist", "album", "albumartist", "date", "genre", "track", "disc", "comment", "composer")

_IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"BM", "image/bmp"),
)


def sniff_image_mime(data: bytes) -> str | None:
    """The MIME type of image bytes from their magic number (PNG, JPEG, GIF, BMP, WebP), or None."""
    for magic, mime in _IMAGE_MAGIC:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def clean_text(value: Any) -> str | None:
    """A tag value as a stripped string without NULs; None for empty, bytes-like or container values."""
    if value is None or isinstance(value, (bool, dict, list, tuple, set, bytes, bytearray)):
        return None
    text = str(value).replace("\x00", "").strip()
    return text or None


class CoverArt(BaseModel):
    """Front-cover image bytes and their MIME type (``image/png``, ``image/jpeg``…)."""

    model_config = ConfigDict(frozen=True, ser_json_bytes="base64", val_json_bytes="base64")

    data: bytes = Field(repr=False)
    mime: str = "image/jpeg"

    @classmethod
    def from_bytes(cls, data: bytes, mime: str | None = None) -> CoverArt | None:
        """A cover from raw bytes, MIME sniffed when not given (or given as a bare "png"/"jpg"); None if empty."""
        if not data:
            return None
        declared = (mime or "").strip().lower()
        if declared in ("png", "jpg", "jpeg", "gif", "bmp", "webp"):
            declared = "image/" + ("jpeg" if declared == "jpg" else declared)
        if not declared.startswith("image/"):
            declared = sniff_image_mime(data) or "image/jpeg"
        return cls(data=bytes(data), mime=declared)

    def __repr__(self) -> str:
        return f"CoverArt(mime={self.mime!r}, {len(self.data)} bytes)"


class TrackTags(BaseModel):
    """Title, artist, album… and cover art of a track; every field optional."""

    model_config = ConfigDict(frozen=True)

    title: str | None = None
    artist: str | None = None
    album: str | None = None
    albumartist: str | None = None
    date: str | None = None
    genre: str | None = None
    track: str | None = None  # "3" or "3/12"
    disc: str | None = None  # "1" or "1/2"
    comment: str | None = None
    composer: str | None = None
    cover: CoverArt | None = None

    @field_validator(*TEXT_FIELDS, mode="before")
    @classmethod
    def _clean(cls, value: Any) -> str | None:
        return clean_text(value)

    @property
    def is_empty(self) -> bool:
        """True when no field (text or cover) is set."""
        return self.cover is None and all(getattr(self, name) is None for name in TEXT_FIELDS)

    def filled_from(self, other: TrackTags) -> TrackTags:
        """A copy with this track's empty fields taken from ``other``; fields already set are kept."""
        update: dict[str, Any] = {
            name: getattr(other, name) for name in (*TEXT_FIELDS, "cover") if getattr(self, name) is None
        }
        return self.model_copy(update=update)

    def summary(self) -> dict[str, str]:
        """The set text fields, and the cover as "image/png, 1234 bytes" (for manifests and tool results)."""
        out = {name: value for name in TEXT_FIELDS if (value := getattr(self, name)) is not None}
        if self.cover is not None:
            out["cover"] = f"{self.cover.mime}, {len(self.cover.data)} bytes"
        return out
