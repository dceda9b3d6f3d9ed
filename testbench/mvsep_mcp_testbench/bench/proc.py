"""Processes as the benchmark sees them: resident memory, threads, open files, child processes, the machine (Linux
``/proc``).

Written by hand on ``/proc`` rather than adding psutil to the dependencies for a few small reads; on a system without
``/proc`` these return ``None`` or empty sets and the memory figures print ``n/a``.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

MB = 1024 * 1024


def _status_kb(pid: int, field: str) -> int | None:
    """A number field of ``/proc/<pid>/status`` (in kB for the memory fields)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return None


def rss_mb(pid: int) -> float | None:
    """Resident set size of ``pid`` now, in MiB."""
    kb = _status_kb(pid, "VmRSS")
    return kb / 1024 if kb is not None else None


def peak_rss_mb(pid: int) -> float | None:
    """The high-water mark of ``pid``'s resident set, in MiB."""
    kb = _status_kb(pid, "VmHWM")
    return kb / 1024 if kb is not None else None


def thread_count(pid: int) -> int | None:
    """Threads of ``pid`` now."""
    return _status_kb(pid, "Threads")


def fd_count(pid: int) -> int | None:
    """Open file descriptors of ``pid`` now."""
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def children(pid: int) -> set[int]:
    """Process ids whose parent is ``pid``."""
    found: set[int] = set()
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text(encoding="ascii", errors="replace")
        except OSError:
            continue
        # the command name is in parentheses and may contain spaces: the parent pid is the 2nd field after it
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1 and fields[1] == str(pid):
            found.add(int(entry))
    return found


def working_dir(pid: int) -> Path | None:
    try:
        return Path(os.readlink(f"/proc/{pid}/cwd"))
    except OSError:
        return None


def load() -> str:
    """The 1-minute load average (other work on the machine skews every figure)."""
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "?"


def machine() -> dict[str, str]:
    """A short description of the machine the run was on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text(encoding="ascii").splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count() or "?"),
        "memory": memory or "?",
        "os": f"{platform.system()} {platform.release()}",
        "python": sys.version.split()[0],
    }
