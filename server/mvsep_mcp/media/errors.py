"""Errors of the media package (``MediaError`` and its subclasses, drawn in ARCHITECTURE.md, "Error tree"), each
with a message that is a sentence naming the fix."""

from __future__ import annotations

from mvsep_mcp.errors import UserError


class MediaError(UserError):
    """Base of every error raised by ``mvsep_mcp.media`` (a branch of :mod:`mvsep_mcp.errors`)."""


class UnsupportedAudio(MediaError):
    """The file is not audio this server can read (duration, tags)."""


class TemplateError(MediaError, ValueError):
    """A naming template is invalid."""


class OutsideOutputRoot(MediaError):
    """A destination path would escape the output root."""


class PathTooLong(MediaError):
    """The output root is so long that no file name fits under the path limit."""
