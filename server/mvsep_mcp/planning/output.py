"""Where the files of a request will go, checked before anything is paid for.

The output folder must be a folder (or creatable), writable, and not a system location; every file name the
naming template will give (for every input and every stem the model makes) must fit the file system's limits and
stay inside the folder. Each refusal is a sentence naming the fix.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path, PureWindowsPath

from mvsep_mcp import system
from mvsep_mcp.catalog.facts import output_labels
from mvsep_mcp.jobs.downloads import destination_for
from mvsep_mcp.jobs.models import JobSpec
from mvsep_mcp.media.tags import TrackTags
from mvsep_mcp.mvsep.formats import FORMAT_BY_CODE
from mvsep_mcp.mvsep.models import Algorithm
from mvsep_mcp.planning.errors import PlanError
from mvsep_mcp.policy import MAX_PATH_CHARS

# a system folder is refused as the output folder, and so is anything inside one of the "inside" ones
_SYSTEM_EXACT = ("/", "/bin", "/boot", "/dev", "/etc", "/lib", "/lib64", "/opt", "/proc", "/root", "/run", "/sbin",
                 "/srv", "/sys", "/usr", "/var", "/home", "/Users", "/System", "/Library", "/Applications",
                 "/private", "/private/etc", "/private/var")
_SYSTEM_INSIDE = ("/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/proc", "/run", "/sbin", "/sys",
                  "/usr", "/System", "/private/etc", "/var/lib", "/var/log")
_WINDOWS_INSIDE = ("windows", "program files", "program files (x86)", "programdata")
_SAMPLE_HASH = "20260101000000-0123456789-a-long-song-name-as-mvsep-slugs-it.flac"  # room for {hash}


def is_system_location(path: Path) -> bool:
    """``/``, ``/etc``, ``/proc``… (or a drive root, ``C:\\Windows``, ``C:\\Program Files``…) or inside one."""
    if system.is_windows() or ":" in str(path)[:3]:
        parts = [p.lower().rstrip("\\/") for p in PureWindowsPath(path).parts]
        return len(parts) <= 1 or (len(parts) >= 2 and parts[1] in _WINDOWS_INSIDE)
    text = "/" + str(path).strip("/")
    return text in _SYSTEM_EXACT or any(text == f or text.startswith(f + "/") for f in _SYSTEM_INSIDE)


def check_output_folder(root: Path) -> None:
    """The folder exists and takes files, or can be created; never a system location."""
    if "\x00" in str(root):
        raise PlanError("The output folder's path contains a NUL character: give a real folder path.")
    folder = Path(os.path.abspath(root))
    if len(str(folder)) > MAX_PATH_CHARS - 40:
        raise PlanError(f"The output folder's path is {len(str(folder))} characters long, which leaves no room for "
                        f"file names: choose a folder with a shorter path.")
    for candidate in (folder, Path(os.path.realpath(folder))):
        if is_system_location(candidate):
            raise PlanError(f"{candidate} is a system location, not a place for stems: choose a folder of your own, "
                            f"e.g. ~/Music/Stems.")
    existing = folder
    try:
        while not existing.exists():
            existing = existing.parent
        is_dir = existing.is_dir()
    except OSError as exc:
        raise PlanError(f"The output folder {folder} cannot be used ({exc.strerror or exc}): choose another.") from None
    if not is_dir:
        what = "is a file" if existing == folder else f"cannot be created: {existing} is a file"
        raise PlanError(f"The output folder {folder} {what}; choose a folder (or move the file away).")
    _check_writable(existing, folder)


def _check_writable(existing: Path, folder: Path) -> None:
    """Write and remove a hidden probe file: the only test that holds on every file system and for root too."""
    try:
        with tempfile.NamedTemporaryFile(dir=existing, prefix=".mvsep-write-test-"):
            pass
    except OSError as exc:
        why = "it is read-only" if exc.errno == errno.EROFS else (exc.strerror or str(exc)).lower()
        where = folder if existing == folder else f"{folder} (nor create it in {existing})"
        raise PlanError(
            f"Cannot write to the output folder {where}: {why}. Choose a folder you can write to."
        ) from None


def check_file_names(specs: list[JobSpec], algorithm: Algorithm) -> None:
    """Every name the template will give, for every input and stem, fits and stays inside the output folder."""
    stems = output_labels(algorithm) or ["Vocals"]
    for spec in specs:
        ext = FORMAT_BY_CODE[spec.output_format].ext if spec.output_format in FORMAT_BY_CODE else "flac"
        tags = TrackTags.model_validate({k: v for k, v in spec.input_tags.items() if k != "cover"})
        fallback = (spec.song_name or "untitled").rsplit(".", 1)[0]
        for stem in stems:
            destination_for(spec, tags, stem, ext, job_hash=_SAMPLE_HASH, fallback=fallback)
