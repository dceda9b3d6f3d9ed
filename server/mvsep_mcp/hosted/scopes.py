"""The OAuth scopes a hosted server checks, and which one each MCP request needs.

- ``mvsep:read``: every request (list tools, read the catalogue, wait for and list one's own jobs, read results).
- ``mvsep:separate``: tools that start, cancel or write anything (they may spend the user's MVSep credits).
- ``mvsep:account``: tools that change the MVSep account itself (premium mode, long file names).

The tasks extension follows the same line: ``tasks/get`` and ``tasks/update`` read (``mvsep:read``), ``tasks/cancel``
cancels the user's jobs (``mvsep:separate`` too, as ``cancel_job`` does).

A tool's scope follows its annotations (read-only: ``mvsep:read``; anything else: ``mvsep:separate``) unless it is
named in :data:`ACCOUNT_TOOLS`, so a tool added later is never left unguarded.
"""

from __future__ import annotations

from collections.abc import Iterable

READ = "mvsep:read"
SEPARATE = "mvsep:separate"
ACCOUNT = "mvsep:account"
ALL_SCOPES = (READ, SEPARATE, ACCOUNT)

ACCOUNT_TOOLS = frozenset({"set_premium_mode", "set_long_filenames", "login", "register_account"})
WRITING_METHODS = frozenset({"tasks/cancel"})  # requests other than tools/call that act on the user's jobs


def tool_scope(name: str, read_only: bool) -> str:
    """The scope a call of tool ``name`` needs besides :data:`READ`."""
    if name in ACCOUNT_TOOLS:
        return ACCOUNT
    return READ if read_only else SEPARATE


def needed_scopes(method: str, tool: str | None, read_only_tools: Iterable[str]) -> tuple[str, ...]:
    """Every scope a JSON-RPC request needs: :data:`READ`, plus the tool's own for ``tools/call``."""
    needed = [READ]
    if method == "tools/call" and tool is not None:
        needed.append(tool_scope(tool, tool in set(read_only_tools)))
    elif method in WRITING_METHODS:
        needed.append(SEPARATE)
    return tuple(dict.fromkeys(needed))


def missing(granted: Iterable[str], needed: Iterable[str]) -> list[str]:
    have = set(granted)
    return [scope for scope in needed if scope not in have]
