"""Where a stem goes: naming templates, names that are legal on every OS, and paths that stay inside the output root.

A template is a relative path with placeholders, ``DEFAULT_TEMPLATE = "{song}/{title} ({stem}).{ext}"``, giving
``<output root>/Artist - Title/Title (Vocals).flac``. ``render_relative_path`` fills it, cleans every component for
Windows, macOS and Linux and shortens it to fit ``MAX_NAME_CHARS`` per component and ``MAX_PATH_CHARS`` together
with the root: free-text values (title, song, input, album, artist) are cut first, the stem and extension last/never.

Missing values: ``{title}`` falls back to the input file name (then "Untitled"); ``{song}`` is "Artist - Title" or just
the title without an artist; ``{artist}`` / ``{album}`` become "Unknown Artist" / "Unknown Album" only where the
template asks for them; other placeholders render empty and the separators around them are tidied away. A template
whose last component lacks ``{ext}`` gets ``.{ext}`` appended. ``{hash}`` is the short job hash (the 10 hex digits
of an MVSep hash), ``{track}`` the track number zero-padded to two digits.

``safe_destination`` is the last gate before writing: whatever a template or the server produced, the result must
resolve to a file strictly inside the root (symlinks followed), or ``OutsideOutputRoot`` is raised.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pydantic import BaseModel, ConfigDict

from mvsep_mcp import system
from mvsep_mcp.media.errors import OutsideOutputRoot, PathTooLong, TemplateError
from mvsep_mcp.media.probe import AUDIO_SUFFIXES
from mvsep_mcp.policy import MAX_NAME_CHARS, MAX_PATH_CHARS, NAME_MAX_BYTES

PLACEHOLDERS = ("title", "artist", "album", "song", "stem", "model", "format", "ext", "input", "hash", "date", "track")
DEFAULT_TEMPLATE = "{song}/{title} ({stem}).{ext}"
UNKNOWN_ARTIST = "Unknown Artist"
UNKNOWN_ALBUM = "Unknown Album"
UNTITLED = "Untitled"

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_ILLEGAL = re.compile(r'[<>:"/\\|?*]')
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_SPACES = re.compile(r"\s+")
_DRIVE = re.compile(r"^[A-Za-z]:")
_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{port}{n}" for port in ("COM", "LPT") for n in [*"123456789", "\u00b9", "\u00b2", "\u00b3"]}
)
_SEPARATORS = r"\s\-\u2013\u2014_,;"
_SHRINK_TIERS = (("title", "song", "input", "album", "artist"), ("model", "date", "track", "hash", "format"),
                 ("stem",))
_MVSEP_HASH = re.compile(r"^\d{14}-([0-9a-f]{6,})")


# --- components ---------------------------------------------------------------------------------------------------

def _clean(text: str) -> str:
    """Character-level cleaning shared by values and whole components (no trimming of dots)."""
    text = unicodedata.normalize("NFC", text)
    text = _BIDI.sub("", text)
    text = _CONTROL.sub(" ", text)
    text = _ILLEGAL.sub("_", text)
    return _SPACES.sub(" ", text)


def _finish(name: str) -> str:
    """Whole-component rules: no leading dots/spaces, no trailing dots/spaces, no reserved device names, not empty."""
    name = _clean(name).strip(" ").lstrip(". ").rstrip(". ")
    base, dot, rest = name.partition(".")
    if base.rstrip(" ").upper() in _RESERVED:
        name = f"{base.rstrip(' ')}_{dot}{rest}"
    return name or "_"


def _units(text: str) -> int:
    """Length as Windows counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def _fits(name: str, max_chars: int) -> bool:
    return _units(name) <= max_chars and len(name.encode("utf-8")) <= NAME_MAX_BYTES


def sanitize_component(name: str, max_chars: int = MAX_NAME_CHARS) -> str:
    """One file or folder name made legal everywhere (e.g. a server-given ``download`` name); keeps a short suffix."""
    cleaned = _finish(name)
    if _fits(cleaned, max_chars):
        return cleaned
    stem, suffix = os.path.splitext(cleaned)
    if len(suffix) > 16 or not stem:
        stem, suffix = cleaned, ""
    while stem and not _fits(stem + suffix, max_chars):
        stem = stem[:-1]
    return _finish(stem + suffix) if stem else _finish(suffix)[:max_chars]


# --- fields ---------------------------------------------------------------------------------------------------------

def short_hash(job_hash: str | None) -> str:
    """The 10-hex-digit part of an MVSep hash (``20240119124024-413c481b80-…`` -> ``413c481b80``), else its start."""
    if not job_hash:
        return ""
    match = _MVSEP_HASH.match(job_hash)
    if match:
        return match.group(1)[:10]
    return re.sub(r"[^0-9A-Za-z]", "", job_hash)[:10]


class NamingFields(BaseModel):
    """The values a naming template can use; all optional except ``stem``."""

    model_config = ConfigDict(frozen=True)

    stem: str
    title: str | None = None
    artist: str | None = None
    album: str | None = None
    model: str | None = None
    format: str | None = None  # "flac", "mp3"…
    ext: str | None = None  # file extension without the dot; defaults to ``format``
    input: str | None = None  # input file name; an audio suffix is dropped
    hash: str | None = None  # the job hash (rendered short)
    date: str | None = None
    track: str | None = None

    def values(self) -> dict[str, str]:
        """Every placeholder's text before cleaning, fallbacks applied ("" where nothing fits)."""
        def text(value: str | None) -> str:
            stripped = (value or "").strip()
            return "_" if stripped and not stripped.strip(" .") else stripped  # "." and ".." never survive

        input_name = text(self.input)
        if Path(input_name).suffix.lower() in AUDIO_SUFFIXES:
            input_name = input_name[: -len(Path(input_name).suffix)]
        title = text(self.title) or input_name or UNTITLED
        artist = text(self.artist)
        ext = (text(self.ext) or text(self.format)).lstrip(".").lower()
        number = text(self.track).partition("/")[0].strip()
        track = number.zfill(2) if number.isdigit() else number
        return {
            "title": title,
            "artist": artist or UNKNOWN_ARTIST,
            "album": text(self.album) or UNKNOWN_ALBUM,
            "song": f"{artist} - {title}" if artist else title,
            "stem": text(self.stem),
            "model": text(self.model),
            "format": text(self.format).lower() or ext,
            "ext": ext,
            "input": input_name or title,
            "hash": short_hash(self.hash),
            "date": text(self.date),
            "track": track,
        }


# --- templates --------------------------------------------------------------------------------------------------------

def _placeholder_list() -> str:
    return ", ".join("{" + name + "}" for name in PLACEHOLDERS)


def validate_template(template: str) -> None:
    """Raise ``TemplateError`` (a sentence naming the fix) unless ``template`` is a usable relative naming template."""
    if not template or not template.strip():
        raise TemplateError(f"The naming template is empty; use e.g. {DEFAULT_TEMPLATE!r} "
                            f"(placeholders: {_placeholder_list()}).")
    names = _PLACEHOLDER.findall(template)
    unknown = sorted({name for name in names if name not in PLACEHOLDERS})
    if unknown:
        shown = ", ".join("{" + name + "}" for name in unknown)
        raise TemplateError(f"The naming template uses unknown placeholder(s) {shown}; "
                            f"the placeholders are {_placeholder_list()}.")
    if "{" in _PLACEHOLDER.sub("", template) or "}" in _PLACEHOLDER.sub("", template):
        raise TemplateError(f"The naming template has an unmatched brace; write placeholders as {{name}}, "
                            f"one of {_placeholder_list()}.")
    if "stem" not in names:
        raise TemplateError(f"The naming template must contain {{stem}}, or every stem of a song would get the same "
                            f"name; e.g. {DEFAULT_TEMPLATE!r} (placeholders: {_placeholder_list()}).")
    if template.startswith(("/", "\\")) or _DRIVE.match(template):
        raise TemplateError("The naming template must be relative to the output folder; remove the leading "
                            f"folder or drive, e.g. {DEFAULT_TEMPLATE!r}.")
    if any(part.strip() == ".." for part in re.split(r"[/\\]", template)):
        raise TemplateError(f"The naming template must not contain '..'; it names files inside the output folder, "
                            f"e.g. {DEFAULT_TEMPLATE!r}.")


@dataclass
class _Slot:
    """One placeholder occurrence in one component; ``value`` is what is left of it after shortening."""

    name: str
    value: str


def _parse(template: str) -> list[list[str | _Slot]]:
    components: list[list[str | _Slot]] = []
    parts = [p for p in re.split(r"[/\\]", template) if p.strip() not in ("", ".")]
    if "{ext}" not in parts[-1]:
        parts[-1] += ".{ext}"
    for part in parts:
        segments: list[str | _Slot] = []
        position = 0
        for match in _PLACEHOLDER.finditer(part):
            if match.start() > position:
                segments.append(part[position : match.start()])
            segments.append(_Slot(match.group(1), ""))
            position = match.end()
        if position < len(part):
            segments.append(part[position:])
        components.append(segments)
    return components


def _tidy(name: str) -> str:
    """Remove what an empty placeholder leaves behind: "()", "[]", dangling " - " at either end or before the suffix."""
    name = re.sub(r"\(\s*\)|\[\s*\]", "", name)
    name = re.sub(rf"^[{_SEPARATORS}]+", "", name)
    name = re.sub(rf"[{_SEPARATORS}]+(?=\.[A-Za-z0-9]{{1,5}}$)", "", name)
    return re.sub(rf"[{_SEPARATORS}]+$", "", name)


def _render_component(segments: list[str | _Slot]) -> str:
    text = "".join(s if isinstance(s, str) else s.value for s in segments)
    if any(isinstance(s, _Slot) and not s.value.strip() for s in segments):
        text = _tidy(_clean(text))
    return _finish(text)


def _shrink(candidates: list[_Slot], excess: int) -> bool:
    """Cut the longest value of the first tier with room by ``excess`` characters; False if none can shrink."""
    for tier in _SHRINK_TIERS:
        slots = [s for s in candidates if s.name in tier and len(s.value) > 1]
        if slots:
            victim = max(slots, key=lambda s: len(s.value))
            keep = max(1, len(victim.value) - max(1, excess))
            victim.value = victim.value[:keep].rstrip(" .-_,") or victim.value[:1]
            return True
    return False


def render_relative_path(template: str, fields: NamingFields, root_len: int = 0) -> PurePosixPath:
    """Fill ``template`` with ``fields`` into a clean relative path that fits the limits below a root of ``root_len``.

    Each component fits ``MAX_NAME_CHARS`` (and ``NAME_MAX_BYTES``); ``root_len + 1 + len(path)`` fits
    ``MAX_PATH_CHARS``. Raises ``TemplateError`` for a bad template, ``PathTooLong`` when the root leaves no room.
    """
    validate_template(template)
    values = fields.values()
    if not values["stem"]:
        raise TemplateError("The stem name is empty; every output needs a stem label such as 'Vocals'.")
    components = _parse(template)
    for segments in components:
        for segment in segments:
            if isinstance(segment, _Slot):
                value = _clean(values[segment.name])
                segment.value = "_" if value and not value.strip(" .") else value  # "..", "." never survive
    for _ in range(10_000):
        names = [_render_component(segments) for segments in components]
        over = [(i, _units(n) - MAX_NAME_CHARS, len(n.encode("utf-8")) - NAME_MAX_BYTES) for i, n in enumerate(names)]
        bad = next(((i, max(chars, size)) for i, chars, size in over if chars > 0 or size > 0), None)
        if bad is not None:
            index, excess = bad
            slots = [s for s in components[index] if isinstance(s, _Slot)]
            if not _shrink(slots, excess):
                raise PathTooLong(f"The naming template makes a file name longer than {MAX_NAME_CHARS} characters "
                                  f"even after shortening; use a shorter template such as {DEFAULT_TEMPLATE!r}.")
            continue
        total = root_len + 1 + _units("/".join(names))
        if total <= MAX_PATH_CHARS:
            return PurePosixPath(*names)
        all_slots = [s for segments in components for s in segments if isinstance(s, _Slot)]
        if not _shrink(all_slots, total - MAX_PATH_CHARS):
            raise PathTooLong(f"The output folder's path is too long ({root_len} characters) to fit a file name "
                              f"within {MAX_PATH_CHARS} characters; choose a shorter output folder.")
    raise PathTooLong("Could not shorten the file name to fit; choose a shorter output folder or template.")


# --- the output root gate ---------------------------------------------------------------------------------------------

def safe_destination(root: Path, relative: PurePosixPath | str) -> Path:
    """``root / relative`` resolved, provided it lands strictly inside ``root``; else ``OutsideOutputRoot``.

    Refuses absolute paths, drive letters and UNC names, ``..`` anywhere, NUL characters, and paths whose existing
    folders (symlinks, junctions) resolve outside the root. ``\\`` counts as a separator, as on Windows.
    """
    text = str(relative)
    refusal = (f"Refusing to write {text!r}: it would land outside the output folder {root}; "
               f"file names from templates or MVSep must stay inside it.")
    if not text or "\x00" in text or text.startswith(("/", "\\")) or _DRIVE.match(text):
        raise OutsideOutputRoot(refusal)
    parts = [p for p in re.split(r"[/\\]", text) if p not in ("", ".")]
    if not parts or any(p.strip() == ".." for p in parts):
        raise OutsideOutputRoot(refusal)
    if system.is_windows() and any(":" in p for p in parts):  # alternate data streams, drive-relative names
        raise OutsideOutputRoot(refusal)
    base = Path(root).expanduser().resolve()
    target = base.joinpath(*parts).resolve()
    if target == base or not target.is_relative_to(base):
        raise OutsideOutputRoot(refusal)
    return target
