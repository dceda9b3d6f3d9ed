"""Folders and audio files a partly typed path may mean (for completing a prompt's ``path`` or ``paths``).

```python
suggest_paths("~/Mu")                  # ["~/Music/"]: what was typed kept, the rest of the name added
suggest_paths("/music/Al")             # ["/music/Album/", "/music/All Along.flac"]: folders first, then audio files
suggest_path_list("/a.flac, /music/S") # ["/a.flac, /music/Song.flac"]: the last of comma-separated paths
```

Only absolute paths (or ``~``) are completed, as the tools take only those; hidden entries only when the typed
name starts with a dot; at most ``COMPLETION_DIR_ENTRIES`` entries of a folder are read. Blocking: call it off the
event loop.
"""

from __future__ import annotations

import os
from pathlib import Path

from mvsep_mcp.media.probe import AUDIO_SUFFIXES
from mvsep_mcp.policy import COMPLETION_DIR_ENTRIES


def suggest_paths(typed: str) -> list[str]:
    """Entries of the typed path's folder whose names start with its last part (case ignored), as typed plus the
    rest of the name: folders (ending in ``/``) first, then audio files, each by name."""
    text = typed.strip()
    if not text.startswith(("/", "~")):
        return []
    if text == "~":
        text = "~/"
    if "/" not in text:  # "~someone" alone: no folder to list yet
        return []
    lead, _, part = text.rpartition("/")
    lead += "/"
    folder = Path(lead).expanduser()
    wanted = part.casefold()
    folders: list[str] = []
    audio: list[str] = []
    try:
        with os.scandir(folder) as entries:
            for count, entry in enumerate(entries):
                if count >= COMPLETION_DIR_ENTRIES:
                    break
                name = entry.name
                if not name.casefold().startswith(wanted) or (name.startswith(".") and not part.startswith(".")):
                    continue
                try:
                    is_folder = entry.is_dir()
                except OSError:
                    continue
                if is_folder:
                    folders.append(lead + name + "/")
                elif Path(name).suffix.lower() in AUDIO_SUFFIXES:
                    audio.append(lead + name)
    except OSError:
        return []
    return sorted(folders, key=str.casefold) + sorted(audio, key=str.casefold)


def suggest_path_list(typed: str) -> list[str]:
    """:func:`suggest_paths` for the last of comma-separated paths, the ones before it kept as typed."""
    last = typed.rsplit(",", 1)[-1]
    lead = typed[: len(typed) - len(last)] + last[: len(last) - len(last.lstrip())]
    return [lead + path for path in suggest_paths(last)]
