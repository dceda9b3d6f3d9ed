"""Finding out whether a create that got no answer reached MVSep, from the account's separation history.

Never by creating again: a job is adopted when a history entry was created at or after its ``submitted_at`` minus a
slack, its hash slug matches the input file name's slug, its algorithm (when the entry says) is the job's, and no other
job of the journal already owns that hash.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from datetime import UTC, datetime
from typing import Any

from mvsep_mcp.jobs.models import JobRecord
from mvsep_mcp.jobs.ports import JobsClient
from mvsep_mcp.policy import HISTORY_PAGE_SIZE, RECONCILE_HISTORY_PAGES, RECONCILE_SLACK_S, SLUG_MIN_PREFIX

log = logging.getLogger(__name__)

_HASH_PREFIX = re.compile(r"^(\d{14})-[0-9a-fA-F]+-(.*)$")


def slugify(name: str) -> str:
    """MVSep-like slug of a file name without its extension: ASCII lowercase words joined by '-'."""
    stem = name.rsplit(".", 1)[0] if "." in name else name
    ascii_text = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def hash_slug(job_hash: str) -> str | None:
    """The file-name slug inside a hash like ``20240212075543-a274f83da2-4-un-poco-de-tu-amor-5.flac``."""
    match = _HASH_PREFIX.match(job_hash)
    if not match:
        return None
    return slugify(match.group(2))


def hash_timestamp(job_hash: str) -> float | None:
    match = _HASH_PREFIX.match(job_hash)
    if not match:
        return None
    try:
        return datetime.strptime(match.group(1), "%Y%m%d%H%M%S").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


def _entry_time(entry: Any) -> float | None:
    value = getattr(entry, "created_at", None)
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None:
            return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
    job_hash = getattr(entry, "hash", None)
    return hash_timestamp(job_hash) if isinstance(job_hash, str) else None


def _entry_render_id(entry: Any) -> int | None:
    algorithm = getattr(entry, "algorithm", None)
    if algorithm is None:
        return None
    value = algorithm.get("render_id") if isinstance(algorithm, dict) else getattr(algorithm, "render_id", None)
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def matches(record: JobRecord, entry: Any, *, slack: float = RECONCILE_SLACK_S) -> bool:
    """Whether a history entry may be the MVSep job of ``record``."""
    job_hash = getattr(entry, "hash", None)
    if not isinstance(job_hash, str) or not job_hash:
        return False
    since = (record.submitted_at or record.created_at) - slack
    created = _entry_time(entry)
    if created is None or created < since:
        return False
    render_id = _entry_render_id(entry)
    if render_id is not None and render_id != record.spec.sep_type:
        return False
    source = record.spec.source_name
    if source:
        return slug_matches(hash_slug(job_hash), slugify(source))
    return True


def slug_matches(entry_slug: str | None, ours: str) -> bool:
    """Equal slugs, allowing MVSep's truncation of long names and a ``-N`` added when the name was taken."""
    if not entry_slug or not ours:
        return False
    if entry_slug == ours:
        return True
    base = re.sub(r"-\d+$", "", entry_slug)
    return base == ours or (len(base) >= SLUG_MIN_PREFIX and ours.startswith(base))


async def find_in_history(client: JobsClient, record: JobRecord, taken: set[str], *,
                          slack: float = RECONCILE_SLACK_S) -> str | None:
    """The hash of ``record``'s MVSep job if the history shows it (skipping hashes in ``taken``), else ``None``.

    Raises whatever the client raises (a transport error means "don't know yet").
    """
    since = (record.submitted_at or record.created_at) - slack
    candidates: list[str] = []
    for page in range(RECONCILE_HISTORY_PAGES):
        entries = await client.separation_history(start=page * HISTORY_PAGE_SIZE, limit=HISTORY_PAGE_SIZE)
        for entry in entries:
            if matches(record, entry, slack=slack) and entry.hash not in taken:
                candidates.append(entry.hash)
        oldest = min((t for t in (_entry_time(e) for e in entries) if t is not None), default=None)
        if len(entries) < HISTORY_PAGE_SIZE or (oldest is not None and oldest < since):
            break
    if not record.spec.source_name and len(candidates) > 1:
        log.warning("job %s: %d history entries could be it and none can be told apart", record.id, len(candidates))
        return None
    # newest first: with several tries of the same file, the latest one is ours
    return candidates[0] if candidates else None
