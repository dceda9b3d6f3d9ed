"""Downloading a finished job's files: name, fetch to a temp file, tag, hash, commit, record, then the manifest.

Whatever MVSep sends as a stem label or file name, the destination goes through ``render_relative_path`` and
``safe_destination`` (nothing lands outside the output root); files are written to a temporary name and committed
without overwriting; a failed file leaves nothing behind and is tried again on the runner's next pass, unless trying
again cannot help (:func:`is_permanent`: a disk that refused the bytes, a folder that cannot be used).

A stem's save fails when anything writing it fails: the download (every byte counted), its tags, its BWF chunk. Only
a stem mutagen cannot tag (a format limit, not the disk) is kept untagged, with a warning in the manifest.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import hashlib
import logging
import os
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

import anyio
import anyio.to_thread

from mvsep_mcp.daw import DawError, Provenance, StreamFacts, UnreadableAudio, align_stem, read_stream_facts
from mvsep_mcp.daw.bwf import write_provenance
from mvsep_mcp.jobs.disk import causes, disk_errno
from mvsep_mcp.jobs.errors import JobError
from mvsep_mcp.jobs.models import JobRecord, JobSpec, OutputFile
from mvsep_mcp.jobs.ports import JobsClient
from mvsep_mcp.media.errors import MediaError
from mvsep_mcp.media.files import commit_file, ensure_dir, sha256_file, temp_path_for
from mvsep_mcp.media.manifest import (
    Manifest,
    ManifestInput,
    ManifestJob,
    ManifestOutput,
    host_of,
    relative_posix,
    strip_secrets,
    write_manifest,
)
from mvsep_mcp.media.naming import NamingFields, render_relative_path, safe_destination
from mvsep_mcp.media.tags import TrackTags, read_tags, tags_from_getid3, write_stem_tags
from mvsep_mcp.media.verify import StemRejected, verify_audio
from mvsep_mcp.mvsep import errors as mvsep_errors
from mvsep_mcp.mvsep.formats import FORMAT_BY_CODE

log = logging.getLogger(__name__)

# a failed file that trying again cannot fix, besides a disk that refused it: a name or path we refuse
_PERMANENT_ERRNOS = frozenset({errno.ENAMETOOLONG, errno.ENOTDIR})
_GONE_STATUSES = frozenset({404, 410})


def is_permanent(exc: BaseException) -> bool:
    """Whether trying the download again cannot help (a rejected file or a network fault can be retried)."""
    if isinstance(exc, StemRejected):
        return False
    if isinstance(exc, JobError | MediaError | ValueError) or disk_errno(exc) is not None:
        return True
    return isinstance(exc, OSError) and exc.errno in _PERMANENT_ERRNOS


def keeps_result(exc: BaseException) -> bool:
    """Whether MVSep's result is still worth fetching after this failure: it failed on this side (the disk, the
    folder) or on the way, not because MVSep served something else than the stem (or nothing at all)."""
    if isinstance(exc, StemRejected | mvsep_errors.UntrustedHostError):
        return False
    return not (isinstance(exc, mvsep_errors.APIError) and exc.status_code in _GONE_STATUSES)
_KNOWN_STEM_SUFFIXES = ("vocals", "instrumental", "instrum", "bass", "drums", "other", "piano", "guitar")


def file_ext(url: str, download: str | None, output_format: int) -> str:
    """The extension of a result file: from its URL, else its download name, else the requested format."""
    for candidate in (unquote(urlsplit(url).path), download or ""):
        name = PurePosixPath(candidate.replace("\\", "/")).name
        if "." in name:
            ext = name.rsplit(".", 1)[1].lower()
            if ext.isalnum() and 1 <= len(ext) <= 5:
                return ext
    known = FORMAT_BY_CODE.get(output_format)
    return known.ext if known is not None else FORMAT_BY_CODE[0].ext


def stem_label(file_type: str | None, download: str | None, index: int) -> str:
    """The stem name: ``files[].type``, else the last ``_word`` of the download name, else ``stem N``."""
    if file_type and file_type.strip():
        return file_type.strip()
    if download:
        base = PurePosixPath(download.replace("\\", "/")).name.rsplit(".", 1)[0]
        tail = base.rsplit("_", 1)[-1].strip()
        if tail:
            return tail.capitalize() if tail.lower() in _KNOWN_STEM_SUFFIXES else tail
    return f"stem {index + 1}"


def song_tags(record: JobRecord, mvsep_tags: Any) -> TrackTags:
    """The input's own tags (re-read from disk) filled from MVSep's getID3 tags where missing."""
    spec = record.spec
    path = input_path(record)
    tags = TrackTags()
    if spec.input_tags:  # what was read when the job was planned (the only tags a text-input job has)
        try:
            tags = TrackTags.model_validate({k: v for k, v in spec.input_tags.items() if k != "cover"})
        except ValueError as exc:
            log.info("job %s: ignoring the planned tags (%s)", record.id, exc)
    if path and os.path.isfile(path):
        try:
            tags = read_tags(Path(path))
        except Exception as exc:  # an unreadable input must not block its stems
            log.info("job %s: cannot read the input's tags (%s)", record.id, exc)
    if spec.chain is not None and spec.chain.after is not None:
        return tags  # MVSep read the stem this chain step uploaded: its tags are ours, not the song's
    try:
        return tags.filled_from(tags_from_getid3(mvsep_tags or {}))
    except Exception as exc:
        log.info("job %s: cannot read MVSep's tags (%s)", record.id, exc)
        return tags


def fallback_title(record: JobRecord) -> str:
    name = record.spec.song_name
    if name:
        return name.rsplit(".", 1)[0] if "." in name else name
    return record.hash or record.id


def destination(record: JobRecord, tags: TrackTags, stem: str, ext: str) -> Path:
    """Where a stem goes: the naming template under the output root, never outside it."""
    return destination_for(record.spec, tags, stem, ext, job_hash=record.hash, fallback=fallback_title(record))


def destination_for(spec: JobSpec, tags: TrackTags, stem: str, ext: str, *, job_hash: str | None,
                    fallback: str) -> Path:
    """:func:`destination` from the spec alone, so that planning can try every name before anything is paid."""
    fields = NamingFields(
        stem=stem,
        title=tags.title,
        artist=tags.artist,
        album=tags.album,
        model=spec.model_name or f"model {spec.sep_type}",
        ext=ext,
        format=ext,
        input=spec.song_name or fallback,
        hash=job_hash,
        date=tags.date,
        track=tags.track,
    )
    root = Path(spec.output_root).expanduser()
    relative = render_relative_path(spec.name_template, fields, root_len=len(str(root)))
    return safe_destination(root, relative)


@dataclasses.dataclass
class FileTask:
    url: str
    stem: str
    ext: str
    index: int = 0
    announced_size: str | None = None  # MVSep's size text, e.g. "5.84 MB"

    def temp_key(self, record: JobRecord) -> str:
        """What names this file's temporary files: the same job and stem give the same names after a restart."""
        return f"{record.id}/{self.index}/{self.stem}"


def plan_files(record: JobRecord, files: list[Any]) -> list[FileTask]:
    """The files still to fetch (those already recorded are skipped)."""
    have = {o.url for o in record.outputs}
    tasks = []
    for index, item in enumerate(files):
        url = getattr(item, "url", "") or ""
        if not url or url in have:
            continue
        download = getattr(item, "download", None)
        size = getattr(item, "size", None)
        label = stem_label(getattr(item, "type", None), download, index)
        chain = record.spec.chain
        tasks.append(FileTask(url=url, stem=chain.stem_label(label) if chain is not None else label,
                              ext=file_ext(url, download, record.spec.output_format), index=index,
                              announced_size=str(size) if size is not None else None))
    return tasks


@dataclasses.dataclass(frozen=True)
class TempFiles:
    """The two temporary names of one file: the download (resumable) and the verified copy being tagged."""

    download: Path
    tagging: Path

    @classmethod
    def for_task(cls, record: JobRecord, task: FileTask, final: Path) -> TempFiles:
        key = task.temp_key(record)
        return cls(download=temp_path_for(final, key), tagging=temp_path_for(final, key + "/tagging"))


async def fetch_one(
    client: JobsClient,
    record: JobRecord,
    task: FileTask,
    tags: TrackTags,
    *,
    on_bytes: Callable[[int], None] | None = None,
    on_temp_files: Callable[[TempFiles], None] | None = None,
    input_facts: StreamFacts | None = None,
) -> OutputFile:
    """Download one file, verify it is the promised audio, tag it, hash it and commit it under its final name.

    The download goes to a hidden temporary file named after the job and stem (``on_temp_files`` hears of it
    before the first byte), so that a broken transfer resumes where it stopped, in this run or after a restart.
    A file that is not the promised audio is deleted and :class:`StemRejected` raised; nothing with a stem's name
    exists until the file is verified, lined up with the input (``input_facts``: see :func:`input_stream_facts`),
    tagged (a WAV also gets BWF provenance) and complete.
    """
    final = destination(record, tags, task.stem, task.ext)
    temps = TempFiles.for_task(record, task, final)
    await anyio.to_thread.run_sync(ensure_dir, final.parent)
    if on_temp_files is not None:
        on_temp_files(temps)
    temps.tagging.unlink(missing_ok=True)  # a tagging interrupted by a crash starts over from a fresh download
    size = await client.download(task.url, temps.download)  # a transport error keeps the partial file: resumed
    if on_bytes is not None:
        on_bytes(int(size or 0))
    try:
        verified = await anyio.to_thread.run_sync(lambda: verify_audio(
            temps.download, ext=task.ext, label=task.stem, announced_size=task.announced_size,
            expected_duration=record.spec.input_duration_s if record.spec.kind in ("file", "matchering") else None))
        temps.download.replace(temps.tagging)
        source = input_path(record)
        alignment = await anyio.to_thread.run_sync(lambda: align_stem(
            Path(source) if source else None, temps.tagging, daw_ready=record.spec.daw_ready,
            input_facts=input_facts, in_place=True))
        warnings = list(verified.warnings)
        digest = await anyio.to_thread.run_sync(_tag, record, task, tags, temps.tagging, warnings)
        if digest is None:
            digest = await anyio.to_thread.run_sync(sha256_file, temps.tagging)
        size = temps.tagging.stat().st_size
        committed = await anyio.to_thread.run_sync(commit_file, temps.tagging, final)
    except BaseException:
        with contextlib.suppress(OSError):  # the cleanup must not hide why the file failed
            temps.download.unlink(missing_ok=True)
            temps.tagging.unlink(missing_ok=True)
        raise
    return OutputFile(stem=task.stem, path=str(committed), size=size, sha256=digest, url=task.url,
                      format=verified.format, duration_s=verified.duration_s,
                      mtime_ns=committed.stat().st_mtime_ns, alignment=alignment.as_manifest(), warnings=warnings)


def input_path(record: JobRecord) -> str | None:
    """The local audio file the job's stems come from (the Matchering target), if any."""
    spec = record.spec
    return spec.target_path if spec.kind == "matchering" else spec.input_path


def input_stream_facts(record: JobRecord) -> StreamFacts | None:
    """The input's exact length, rate and channels, read once per job (None for URLs, text, a vanished file)."""
    path = input_path(record)
    if not path:
        return None
    try:
        return read_stream_facts(Path(path))
    except (UnreadableAudio, OSError) as exc:
        log.info("job %s: cannot read the input's stream facts (%s)", record.id, exc)
        return None


def _tag(record: JobRecord, task: FileTask, tags: TrackTags, path: Path, warnings: list[str]) -> str | None:
    """Tags (and, in a WAV, BWF provenance) on a verified stem. A stem whose format cannot take them is still the stem
    (said in ``warnings``); a disk that refuses the writes fails the stem's save (the error propagates).

    Returns the finished file's SHA-256 when writing the provenance already hashed it (a WAV rewritten), else None.
    """
    model = record.spec.model_name or f"MVSep model {record.spec.sep_type}"
    try:
        write_stem_tags(path, tags, stem=task.stem, model=model, fmt=task.ext, fallback_title=fallback_title(record))
    except Exception as exc:  # verified audio that mutagen cannot tag is still the stem MVSep made…
        if _written_by_disk(exc):
            raise  # …but a tag half written by a full disk is a broken file
        log.warning("job %s: could not tag the %s stem (%s)", record.id, task.stem, exc)
        warnings.append(f"not tagged: {exc}")
    if task.ext == "wav":
        provenance = Provenance(song=tags.title or fallback_title(record), stem=task.stem, model=model,
                                job=record.hash or record.id)
        digest = hashlib.sha256()
        try:  # the last change to the file, made durable by the commit: room made before the audio where it lies,
            # else the file is rewritten and hashed as it is written
            rewritten = write_provenance(path, provenance, digest=digest, durable=False, in_place=True)
        except DawError as exc:
            if _written_by_disk(exc):
                raise
            log.warning("job %s: could not write BWF provenance into the %s stem (%s)", record.id, task.stem, exc)
            warnings.append(f"no BWF provenance: {exc}")
            return None
        return digest.hexdigest() if rewritten else None
    return None


def chain_fields(record: JobRecord) -> dict[str, Any]:
    """A chain step's manifest names the chain that made its stems: every model, render id and options, the stem
    each later step separated, and the jobs (nothing for a job outside a chain)."""
    chain = record.spec.chain
    if chain is None:
        return {}
    steps = [*chain.steps[:-1], chain.steps[-1].model_copy(update={"job_id": record.id})]
    return {"chain": [step.model_dump(exclude_none=True) for step in steps]}


def _written_by_disk(exc: BaseException) -> bool:
    """Whether the disk failed under ``exc`` (an OSError in its chain): the file may be half written."""
    return any(isinstance(c, OSError) for c in causes(exc))


def manifest_folder(record: JobRecord) -> Path:
    """The folder the stems share (their common parent, never above the output root)."""
    root = Path(record.spec.output_root)
    parents = [str(Path(o.path).parent) for o in record.outputs]
    if not parents:
        return root
    common = Path(os.path.commonpath(parents))
    try:
        common.relative_to(root)
    except ValueError:
        return root
    return common


def write_job_manifest(record: JobRecord, result_data: Any, tags: TrackTags,
                       input_facts: StreamFacts | None = None) -> Path:
    """Write the JSON manifest of a completed job beside its stems; returns its path."""
    spec = record.spec
    folder = manifest_folder(record)
    source = input_path(record)
    input_size = None
    if source and os.path.isfile(source):
        input_size = os.path.getsize(source)
    manifest = Manifest(
        job=ManifestJob.model_validate({
            "hash": record.hash or record.remote_hash or "",
            "model": spec.model_name or f"model {spec.sep_type}",
            "model_id": spec.sep_type,
            "options": dict(spec.options),
            "output_format": getattr(result_data, "output_format", None) or spec.output_format,
            "base_url_host": host_of(spec.base_url),
            "mvsep_link": strip_secrets(getattr(result_data, "link", None)),
            "job_id": record.id,  # extras: the journal's id, the kind of input, the job whose result was reused
            "kind": spec.kind,
            "reused_from": record.reused_from,
            **chain_fields(record),
        }),
        input=ManifestInput.model_validate({
            "path": source,
            "name": spec.song_name or strip_secrets(spec.url) or "(no input file)",
            "size": input_size,
            "sha256": spec.input_sha256,
            "duration_s": spec.input_duration_s,
            "tags": tags.summary(),
            "url": strip_secrets(spec.url),
            **({"stream": input_facts.as_manifest()} if input_facts is not None else {}),
        }),
        outputs=[
            ManifestOutput(
                stem=o.stem,
                path=relative_posix(Path(o.path), folder),
                absolute_path=o.path,
                format=o.format or Path(o.path).suffix.lstrip(".").lower() or None,
                size=o.size,
                sha256=o.sha256,
                duration_s=o.duration_s,
                **({"alignment": o.alignment} if o.alignment else {}),
                **({"warnings": o.warnings} if o.warnings else {}),
            )
            for o in record.outputs
        ],
        cost=spec.estimated_cost,
    )
    return write_manifest(folder, manifest)

