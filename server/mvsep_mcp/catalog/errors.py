"""Errors raised by the catalogue layer.

```
CatalogError                  a request about the catalogue that cannot be honoured as asked
├── UnknownModel              no model (or no single model) matches what was asked for; names the closest ones
├── InvalidOption             an option name or value that the model does not accept; names the valid choices
├── AccessDenied              the account may not use this model; says what would allow it
└── NoEvidence                the quality checker scores no such stem, or has no scores for it yet
```

Every message is a full sentence written for the person (or model) who made the request, and names the fix.
Failures of MVSep itself are `mvsep_mcp.mvsep.errors.MVSepError`, not these. Both are branches of the one tree
in :mod:`mvsep_mcp.errors`.
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
