"""A ``.dawproject`` (DAWproject 1.0: Bitwig Studio, Studio One, Cubase 14…) for one song's session.

The file is a zip holding ``project.xml`` and ``metadata.xml`` (valid against the official ``Project.xsd`` and
``MetaData.xsd``, checked in the tests). Its shape follows the format's own examples:

- ``Structure``: one audio ``Track`` per session track (name, colour, comment = model and job) with a ``Channel``
  routed to a master track; the reference mix's channel is muted;
- ``Arrangement``: a ``Lanes`` time line in **seconds**, a ``Lanes`` per track holding one ``Clip`` at 0 whose
  ``Audio`` states channels, sample rate and duration and whose ``File`` points at the stem;
- stems are referenced as ``<File path="stems/Song - Vocals.flac" external="true"/>`` relative to the project file
  (absolute only when no relative path exists, e.g. another drive), or with ``embed=True`` copied into the zip
  under ``audio/`` (a self-contained file, as large as the stems).
- ``Transport`` carries the tempo and time signature when the song's tempo is known (clips are placed in seconds,
  so they line up whatever the tempo).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from pathlib import Path

from mvsep_mcp.daw.daw_session import (
    MAX_TEMPO_BPM,
    MIN_TEMPO_BPM,
    DawSession,
    SessionTrack,
    relative_media_path,
    session_comment,
)
from mvsep_mcp.media.files import commit_file, ensure_dir, temp_path_for

DAWPROJECT_VERSION = "1.0"
APPLICATION_NAME = "mvsep-mcp"
SUFFIX = ".dawproject"


def _application_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mvsep-mcp")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without metadata
        return "0"


def _number(value: float) -> str:
    return repr(float(value))


class _Ids:
    def __init__(self) -> None:
        self._next = 0

    def __call__(self) -> str:
        self._next += 1
        return f"id{self._next}"


@dataclass(frozen=True)
class MediaRef:
    track: SessionTrack
    path: str  # as written in <File path=…>
    external: bool


def _channel(parent: ET.Element, ids: _Ids, *, channels: int, role: str, muted: bool,
             destination: str | None) -> ET.Element:
    attrs = {"audioChannels": str(channels), "role": role, "solo": "false", "id": ids()}
    if destination:
        attrs["destination"] = destination
    channel = ET.SubElement(parent, "Channel", attrs)
    ET.SubElement(channel, "Mute", {"value": "true" if muted else "false", "id": ids(), "name": "Mute"})
    ET.SubElement(channel, "Pan", {"unit": "normalized", "value": "0.5", "min": "0.0", "max": "1.0", "id": ids(),
                                   "name": "Pan"})
    ET.SubElement(channel, "Volume", {"unit": "linear", "value": "1.0", "min": "0.0", "max": "2.0", "id": ids(),
                                      "name": "Volume"})
    return channel


def project_xml(session: DawSession, media: list[MediaRef]) -> bytes:
    """``project.xml`` for ``session`` with each track's file reference in ``media`` (same order as the tracks)."""
    ids = _Ids()
    project = ET.Element("Project", {"version": DAWPROJECT_VERSION})
    ET.SubElement(project, "Application", {"name": APPLICATION_NAME, "version": _application_version()})
    if session.tempo_bpm is not None:
        transport = ET.SubElement(project, "Transport")
        ET.SubElement(transport, "Tempo", {"unit": "bpm", "value": _number(session.tempo_bpm),
                                           "min": _number(MIN_TEMPO_BPM), "max": _number(MAX_TEMPO_BPM),
                                           "id": ids(), "name": "Tempo"})
        numerator, denominator = session.time_signature
        ET.SubElement(transport, "TimeSignature", {"numerator": str(numerator), "denominator": str(denominator),
                                                   "id": ids()})
    structure = ET.SubElement(project, "Structure")
    track_ids: list[str] = []
    channel_elements: list[ET.Element] = []
    for item in media:
        track = item.track
        attrs = {"contentType": "audio", "loaded": "true", "id": ids(), "name": track.name, "color": track.colour,
                 "comment": track.comment}
        element = ET.SubElement(structure, "Track", attrs)
        track_ids.append(attrs["id"])
        channel_elements.append(_channel(element, ids, channels=track.channels, role="regular", muted=track.muted,
                                         destination=None))
    master = ET.SubElement(structure, "Track", {"contentType": "audio", "loaded": "true", "id": ids(),
                                                "name": "Master"})
    master_channel = _channel(master, ids, channels=max(2, max(t.channels for t in session.tracks)), role="master",
                              muted=False, destination=None)
    for channel in channel_elements:
        channel.set("destination", master_channel.get("id", ""))

    arrangement = ET.SubElement(project, "Arrangement", {"id": ids()})
    lanes = ET.SubElement(arrangement, "Lanes", {"timeUnit": "seconds", "id": ids()})
    for item, track_id in zip(media, track_ids, strict=True):
        track = item.track
        track_lanes = ET.SubElement(lanes, "Lanes", {"track": track_id, "id": ids()})
        clips = ET.SubElement(track_lanes, "Clips", {"id": ids()})
        duration = _number(track.duration_s)
        clip = ET.SubElement(clips, "Clip", {"time": "0.0", "duration": duration, "playStart": "0.0",
                                             "contentTimeUnit": "seconds", "name": track.name})
        audio = ET.SubElement(clip, "Audio", {"channels": str(track.channels), "sampleRate": str(track.sample_rate),
                                              "duration": duration, "id": ids()})
        file_attrs = {"path": item.path}
        if item.external:
            file_attrs["external"] = "true"
        ET.SubElement(audio, "File", file_attrs)
    ET.SubElement(project, "Scenes")
    ET.indent(project)
    text: bytes = ET.tostring(project, encoding="utf-8", xml_declaration=True)
    return text


def metadata_xml(session: DawSession) -> bytes:
    """``metadata.xml``: the song's title, artist, album, year, genre and a comment on where the stems came from."""
    root = ET.Element("MetaData")
    for tag, value in (("Title", session.title), ("Artist", session.artist), ("Album", session.album),
                       ("Year", session.year), ("Genre", session.genre), ("Comment", session_comment(session))):
        if value:
            ET.SubElement(root, tag).text = value
    ET.indent(root)
    text: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return text


def _embedded_names(session: DawSession) -> list[str]:
    names: list[str] = []
    taken: set[str] = set()
    for track in session.tracks:
        name = track.path.name
        stem, suffix = Path(name).stem, Path(name).suffix
        counter = 2
        while name.casefold() in taken:
            name = f"{stem} ({counter}){suffix}"
            counter += 1
        taken.add(name.casefold())
        names.append(f"audio/{name}")
    return names


def write_dawproject(session: DawSession, path: Path, *, embed: bool = False) -> Path:
    """Write ``session`` as a ``.dawproject`` at ``path`` (never overwriting: ``(2)`` is added); returns the path.

    External stems are referenced relative to ``path``'s folder, so keep the project beside the stems (or move
    them together). ``embed=True`` copies every file into the zip instead.
    """
    path = Path(path)
    if path.suffix.lower() != SUFFIX:
        path = path.with_name(path.name + SUFFIX)
    ensure_dir(path.parent)
    if embed:
        media = [MediaRef(t, name, False) for t, name in zip(session.tracks, _embedded_names(session), strict=True)]
    else:
        media = [MediaRef(t, relative_media_path(t.path, path), True) for t in session.tracks]
    tmp = temp_path_for(path)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("project.xml", project_xml(session, media))
            archive.writestr("metadata.xml", metadata_xml(session))
            if embed:
                for item in media:
                    archive.write(item.track.path, item.path, compress_type=zipfile.ZIP_STORED)
        return commit_file(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
