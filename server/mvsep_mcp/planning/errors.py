"""Errors of planning a request (a branch of :mod:`mvsep_mcp.errors`)."""

from __future__ import annotations

from mvsep_mcp.errors import UserError


class PlanError(UserError):
    """The request cannot run as given; the message says what to change."""


class NotEnoughCredits(PlanError):
    """The estimated cost exceeds the account's balance."""
