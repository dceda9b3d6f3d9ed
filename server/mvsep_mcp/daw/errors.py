"""Errors of the DAW package (``DawError`` and its subclasses, drawn in ARCHITECTURE.md, "Error tree"), each with a
message that is a sentence naming the fix.

Alignment never raises for a stem that cannot be aligned: ``StemAlignment.reason`` says why instead, because a
stem that does not line up is still a stem.
"""

from __future__ import annotations

from mvsep_mcp.errors import UserError


class DawError(UserError):
    """Base of every error raised by ``mvsep_mcp.daw``."""


class NotAWave(DawError, ValueError):
    """The file is not a RIFF/WAVE file this package can read or rewrite (RF64, truncated, another format)."""


class SessionError(DawError, ValueError):
    """A DAW session (``.dawproject``, ``.rpp``) cannot be built from what was given."""
