"""What identifies a job in the journal: its fresh id, and the key of its request (identical requests share one)."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from urllib.parse import urlsplit

from mvsep_mcp.jobs.models import JobSpec
from mvsep_mcp.policy import JOB_ID_HEX_CHARS


def request_key(
    source: str, sep_type: int, options: Mapping[str, str], output_format: int, base_url: str
) -> str:
    """The identity of a request: canonical JSON of what determines MVSep's result, hashed.

    ``source`` is the input's sha256 (or several joined) or its URL; ``base_url`` contributes only its host.
    """
    canonical = json.dumps(
        {
            "source": source,
            "sep_type": int(sep_type),
            "options": {str(k): str(v) for k, v in sorted(options.items())},
            "output_format": int(output_format),
            "host": (urlsplit(base_url).netloc or base_url).lower(),
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def request_key_for(spec: JobSpec) -> str:
    """The request key of a spec; a file job without ``input_sha256`` gets a unique key (never reused).

    A chain's later step is the step before's request plus the stem it separates: the same chain asked again is the
    same request (its stems are reused like any job's), whatever MVSep's bytes of the stem in between.
    """
    chain = spec.chain
    if chain is not None and chain.after is not None:
        if not chain.after_key or chain.after_key.startswith("unique:"):
            return "unique:" + secrets.token_hex(16)
        source = f"chain:{chain.after_key}|{chain.steps[-1].from_stem}"
    elif spec.kind == "url" and spec.url:
        source = f"url:{spec.url}|{spec.remote_type or 'direct'}"
    elif spec.kind == "text":
        source = "text"  # the prompt is in the options
    elif spec.input_sha256:
        source = f"sha256:{spec.input_sha256}"
        if spec.kind == "matchering":
            if not spec.reference_sha256:
                return "unique:" + secrets.token_hex(16)
            source += f"+{spec.reference_sha256}"
    else:
        return "unique:" + secrets.token_hex(16)
    return request_key(source, spec.sep_type, spec.options, spec.output_format, spec.base_url)


def new_job_id() -> str:
    return "j" + secrets.token_hex(JOB_ID_HEX_CHARS // 2 + 1)[:JOB_ID_HEX_CHARS]
