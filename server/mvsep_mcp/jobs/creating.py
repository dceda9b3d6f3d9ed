"""Sending one create to MVSep and sorting its answer into what the runner should do next.

``send_create`` never raises for MVSep's answers: it returns a ``CreateOutcome`` whose ``kind`` is
``created`` (fields to write: state active + hash), ``uncertain`` (sent, no answer: reconcile from history; with
``upload: cut_off`` when MVSep reset the connection before answering, so the job is created again if the history
confirms it does not exist),
``limit`` (HTTP 400: the concurrency limit if other jobs are in flight, else permanent), ``retry`` (429 / transport /
5xx: back to the queue, with back-off) or ``failed`` (permanent: bad token, unreadable input, …).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from mvsep_mcp.errors import UserError
from mvsep_mcp.jobs.models import JobRecord, JobState
from mvsep_mcp.jobs.ports import JobsClient
from mvsep_mcp.jobs.recovery import again_text
from mvsep_mcp.mvsep import errors as mvsep_errors
from mvsep_mcp.mvsep.separation_request import SeparationRequest

log = logging.getLogger(__name__)

OutcomeKind = Literal["created", "uncertain", "limit", "retry", "failed"]

TOKEN_REFUSED = (
    "MVSep refused the API token (the API token was refused as invalid); set a valid token from "
    "https://mvsep.com/user-api and submit the job again."
)


@dataclass
class CreateOutcome:
    kind: OutcomeKind
    fields: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    message: str | None = None  # MVSep's own text, when it sent one
    retry_after: float | None = None


def build_request(record: JobRecord) -> SeparationRequest:
    """The ``SeparationRequest`` for a job spec."""
    spec = record.spec
    values: dict[str, Any] = {"sep_type": spec.sep_type, "options": dict(spec.options),
                              "output_format": spec.output_format, "is_demo": spec.is_demo}
    if spec.kind == "file":
        values["audiofile"] = Path(spec.upload_path or "")
    elif spec.kind == "url":
        values["url"] = spec.url
        if spec.remote_type:
            values["remote_type"] = spec.remote_type
    elif spec.kind == "matchering":
        values["target_audiofile"] = Path(spec.target_path or "")
        values["reference_audiofile"] = Path(spec.reference_path or "")
    return SeparationRequest(**values)


async def send_create(client: JobsClient, record: JobRecord,
                      on_body_sent: Callable[[], None] | None = None) -> CreateOutcome:
    """Send the create of ``record`` and classify the answer (see the module docstring).

    ``on_body_sent()`` runs just before the request's last bytes go out (the caller records it for a restart).
    """
    try:
        request = build_request(record)
    except ValidationError as exc:
        return CreateOutcome("failed", error=f"The job's request is invalid ({_first_error(exc)}); fix it and "
                                             f"submit the job again.")
    for _, path in request.upload_files():
        if not path.is_file():
            return CreateOutcome("failed", error=f"The input file {path} no longer exists; restore it or submit "
                                                 f"another file.")
    try:
        created = await client.create_separation(request, on_body_sent=on_body_sent)
    except (mvsep_errors.AmbiguousCreateError, mvsep_errors.InvalidResponseError) as exc:
        log.warning("job %s: the create got no usable answer (%s); it may exist on MVSep", record.id, exc)
        cut_off = isinstance(exc, mvsep_errors.AmbiguousCreateError) and exc.cut_off
        return CreateOutcome("uncertain", fields={"upload": "cut_off"} if cut_off else {})
    except mvsep_errors.AuthenticationError as exc:
        return CreateOutcome("failed", error=TOKEN_REFUSED, message=exc.message)
    except mvsep_errors.MissingTokenError as exc:
        return CreateOutcome("failed", error=str(exc))
    except mvsep_errors.RateLimitError as exc:
        return CreateOutcome("retry", retry_after=exc.retry_after, message=exc.message)
    except (mvsep_errors.TransportError, mvsep_errors.ServerError) as exc:
        log.info("job %s: create failed before MVSep took it (%s); it stays queued", record.id, exc)
        return CreateOutcome("retry")
    except mvsep_errors.BadRequestError as exc:
        return CreateOutcome("limit", message=exc.message, error=refused_message(exc.message))
    except mvsep_errors.APIError as exc:
        return CreateOutcome("failed", message=exc.message, error=refused_message(exc.message))
    except OSError as exc:
        return CreateOutcome("failed", error=f"Cannot read the input file ({exc.strerror or exc}); check that it "
                                             f"exists and is readable, then submit the job again.")
    key = "remote_hash" if record.spec.kind == "url" else "hash"
    return CreateOutcome("created", fields={"state": JobState.ACTIVE, key: created.hash, "mvsep_status": None,
                                            "message": None})


def refused_message(mvsep_message: str | None) -> str:
    reason = (mvsep_message or "no reason given").strip().rstrip(".")
    return (f"MVSep refused the job: {reason}. Check the model (premium-only models need premium) and its options "
            f"with the catalogue, then submit again.")


def unreconciled_message(record: JobRecord) -> str:
    return (
        f"The upload of job {record.id} got no answer and MVSep's history does not show it, so it may or may not "
        f"have reached MVSep. Check your separation history on MVSep before running it again; to resubmit, call "
        f"the separation tool again explicitly (it is never re-sent automatically, so you are not charged twice)."
    )


def unanswered_polls_message(record: JobRecord, exc: BaseException, seconds: float) -> str:
    reason = exc.message.rstrip(".") if isinstance(exc, UserError) else str(exc)
    return (
        f"MVSep gave no usable answer about job {record.id} for {seconds / 60:.0f} minutes (last: {reason}), so this "
        f"server stopped following it. It may still finish on MVSep: {again_text(record)} (it follows this job's "
        f"result, it does not start another)."
    )


def download_failed_message(record: JobRecord, exc: BaseException, *, recoverable: bool) -> str:
    reason = exc.message.rstrip(".") if isinstance(exc, UserError) else str(exc)
    if recoverable:
        return f"Downloading the results of job {record.id} failed ({reason}); {again_text(record)}."
    return (
        f"Downloading the results of job {record.id} failed ({reason}): MVSep did not serve the files it made, so "
        f"submit the file again to run the job anew (that creates a new job)."
    )


def _first_error(exc: ValidationError) -> str:
    errors = exc.errors()
    return str(errors[0].get("msg", exc)) if errors else str(exc)
