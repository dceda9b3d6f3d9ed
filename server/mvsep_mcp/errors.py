"""The one root of every error a user (or the model acting for them) can fix.

Each domain raises its own subclass; the MCP layer turns any of them into the text of a ``ToolError`` in exactly
one place (``mvsep_mcp_tools._registration.tool``), through :meth:`UserError.user_text`. Anything that is not a
``UserError`` is a bug: it is logged with its traceback and the model sees only the SDK's bare "Error executing tool
X".

The whole tree of subclasses is drawn once, in ARCHITECTURE.md ("Error tree"), which a test holds equal to the code.
"""

from __future__ import annotations


class UserError(Exception):
    """Something the user can fix. ``str()`` is the message for logs; :meth:`user_text` the sentence for them."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def user_text(self) -> str:
        """The sentence shown to the user or model: what went wrong and what to do (never a secret)."""
        return self.message
