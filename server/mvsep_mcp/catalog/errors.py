"""Errors raised by the catalogue layer: ``CatalogError`` and its subclasses (drawn in ARCHITECTURE.md, "Error tree").

Every message is a full sentence written for the person (or model) who made the request, and names the fix.
Failures of MVSep itself are `mvsep_mcp.mvsep.errors.MVSepError`, not these.
"""

from __future__ import annotations

from mvsep_mcp.errors import UserError


class CatalogError(UserError):
    """Base class of catalogue errors; `str(error)` is the sentence to show."""


class UnknownModel(CatalogError):
    """No model, or more than one, matches the name or id given."""

    def __init__(self, message: str, *, query: str, suggestions: list[tuple[str, int]]) -> None:
        super().__init__(message)
        self.query = query
        self.suggestions = suggestions  # (name, render_id), closest first


class InvalidOption(CatalogError):
    """An option that the model does not accept, or accepts only in other circumstances."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field  # add_optN when known


class AccessDenied(CatalogError):
    """The account kind may not use the model (MVSep's `orientation`)."""


class NoEvidence(CatalogError):
    """No leaderboard scores the stem asked about (or none names a catalogue model yet)."""
