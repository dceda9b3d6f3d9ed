"""Errors of the DAW package, each with a message that is a sentence naming the fix.

```
DawError                  anything the DAW companion cannot do with the files it was given
├── NotAWave              a file given to the RIFF/BWF code is not a RIFF/WAVE file it can rewrite
├── UnreadableAudio       a file whose stream facts (rate, channels, length) cannot be read (daw.facts)
└── SessionError          a session cannot be built or written (no stems, bad tempo, unknown file type)
```

Alignment never raises for a stem that cannot be aligned: ``StemAlignment.reason`` says why instead, because a
stem that does not line up is still a stem. ``DawError`` is a branch of the one tree in :mod:`mvsep_mcp.errors`.
"""

from __future__ import annotations

from mvsep_mcp.errors import UserError


class DawError(UserError):
    """Base of every error raised by ``mvsep_mcp.daw``."""


class NotAWave(DawError, ValueError):
    """The file is not a RIFF/WAVE file this package can read or rewrite (RF64, truncated, another format)."""


class SessionError(DawError, ValueError):
    """A DAW session (``.dawproject``, ``.rpp``) cannot be built from what was given."""
