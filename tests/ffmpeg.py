"""FFmpeg's own programs (``ffprobe``, ``ffmpeg``), which check files the DAW code writes the way DJ software reads
them. Debian's ``ffmpeg`` package (``.ci/run`` installs it): missing, the test is skipped locally and fails under CI."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.ship.external import in_ci


def program(name: str) -> str:
    """The path of FFmpeg's ``name`` (``ffprobe``, ``ffmpeg``)."""
    found = shutil.which(name)
    if found is None:
        message = f"{name} is not installed (apt-get install -y ffmpeg)"
        if in_ci():
            pytest.fail(f"{message}: CI must have it")
        pytest.skip(message)
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
