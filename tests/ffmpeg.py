"""FFmpeg's own programs (``ffprobe``, ``ffmpeg``), which check files the DAW code writes the way DJ software reads
them: Debian's ``ffmpeg`` package (``.ci/run`` installs it; ``tests/programs.py`` says what a test does without it)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from tests import programs


def program(name: str) -> str:
    """The path of FFmpeg's ``name`` (``ffprobe``, ``ffmpeg``)."""
    programs.skip_if_declared_absent("ffmpeg")
    found = shutil.which(name)
    if found is None:
        programs.missing("ffmpeg", f"{name} is not installed (apt-get install -y ffmpeg)")
    return found


def streams(path: Path) -> list[dict[str, Any]]:
    """``ffprobe``'s streams of ``path``: codec, rate, channels, ``duration_ts``, disposition, tags."""
    out = subprocess.run([program("ffprobe"), "-v", "error", "-show_streams", "-of", "json", str(path)],
                         check=True, capture_output=True, text=True).stdout
    found: list[dict[str, Any]] = json.loads(out)["streams"]
    return found


def decoded_frames(path: Path, stream: int) -> int:
    """How many sample frames ``ffmpeg`` decodes from audio stream ``stream`` of ``path`` (stereo float)."""
    pcm = subprocess.run([program("ffmpeg"), "-v", "error", "-i", str(path), "-map", f"0:a:{stream}", "-ac", "2",
                          "-f", "f32le", "-"], check=True, capture_output=True).stdout
    return len(pcm) // 8
