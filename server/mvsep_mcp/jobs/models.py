"""What a job is: its state machine, what to run (`JobSpec`) and what happened (`JobRecord`).

All models are pydantic and JSON-serialisable (``record.model_dump(mode="json")``) so the tools layer can hand them
to the model as structured results. None of them ever holds the API token: jobs are keyed by an account key.

State flow::

    queued ──► submitting ──► active ──► downloading ──► completed
       ▲            │            │  ▲          │
       │            ▼            │  └─(reuse)  └──► failed (downloads kept failing)
       └──(limit)─ uncertain ────┘
    any non-terminal ──► failed | cancelled | expired
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import PurePath
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from mvsep_mcp.media.naming import DEFAULT_TEMPLATE
from mvsep_mcp.policy import DAW_READY_DEFAULT

JobKind = Literal["file", "url", "matchering", "text"]
# How far a create's request got: "sending" (its last bytes not yet handed over: MVSep cannot have it all), "sent",
# or "cut_off" (MVSep reset the connection before answering: it never read the whole request)
UploadProgress = Literal["sending", "sent", "cut_off"]


class JobState(StrEnum):
    """Where a job stands, from our side of the wire."""

    QUEUED = "queued"  # recorded, nothing sent, no credits spent
    SUBMITTING = "submitting"  # the create is being sent
    UNCERTAIN = "uncertain"  # the create was sent and no answer came: the job may exist on MVSep
    ACTIVE = "active"  # MVSep has it (waiting / processing / distributing / merging)
    DOWNLOADING = "downloading"  # MVSep finished; result files are being fetched
    COMPLETED = "completed"  # files on disk, manifest written
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"  # MVSep no longer has the result

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATES


TERMINAL_STATES = frozenset({JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED, JobState.EXPIRED})
NON_TERMINAL_STATES = frozenset(set(JobState) - TERMINAL_STATES)


class ChainStep(BaseModel):
    """One model of a chain (``separate_audio`` with ``then``), as the manifest names it."""

    model: str
    model_id: int  # the render_id sent as sep_type
    options: dict[str, str] = Field(default_factory=dict)
    from_stem: str | None = None  # the stem of the step before that this step separates (None: the first step)
    job_id: str | None = None  # the job that runs it (a job's own step, the last, carries none)


class ChainLink(BaseModel):
    """A job's place in a chain of models run in one request: each later step separates a stem of the step before.

    Every step is recorded when the request is; a later step waits (queued, nothing sent) until the step before has
    completed, then uploads that step's stem from disk (``upload_path``).
    """

    steps: list[ChainStep]  # the chain up to this job, its own step last
    after: str | None = None  # the job of the step before (None: this is the first step)
    after_key: str | None = None  # that job's request key: this job's own is made from it (the same chain reuses)
    upload_path: str | None = None  # the step before's stem, set once that job completed: what this job uploads
    taken: list[str] = Field(default_factory=list)  # the stems earlier steps made (set with upload_path)

    @property
    def waiting(self) -> bool:
        """Whether the job still waits for the step before (nothing can be sent yet)."""
        return self.after is not None and self.upload_path is None

    def stem_label(self, label: str) -> str:
        """A stem's label in the chain's folder: a later step's stem an earlier step also made (a four-stem model's
        "Vocals" from an instrumental) is told apart by the stem it came from ("Vocals from Instrumental")."""
        if self.after is None or label.casefold() not in {t.casefold() for t in self.taken}:
            return label
        return f"{label} from {self.steps[-1].from_stem}"


class JobSpec(BaseModel):
    """Everything needed to run one job. Paths are absolute strings; options are ``{add_optN: key}``."""

    model_config = ConfigDict(extra="ignore")

    account_key: str
    base_url: str
    kind: JobKind = "file"
    input_path: str | None = None
    url: str | None = None
    remote_type: str | None = None
    target_path: str | None = None  # matchering
    reference_path: str | None = None  # matchering
    sep_type: int
    model_name: str = ""
    options: dict[str, str] = Field(default_factory=dict)
    output_format: int = 0
    output_root: str
    name_template: str = DEFAULT_TEMPLATE
    is_demo: bool = False
    estimated_cost: int | None = None
    spends_credits: bool = False  # a premium job (estimated_cost is an estimate either way)
    batch_id: str | None = None
    input_sha256: str | None = None  # of input_path (or target_path for matchering)
    input_duration_s: float | None = None  # of that file, when known: stems are checked against it
    daw_ready: bool = DAW_READY_DEFAULT  # WAV/FLAC stems trimmed or padded to the input's exact length
    daw_session: list[str] = Field(default_factory=list)  # session files to write beside the stems: dawproject, rpp
    reference_sha256: str | None = None  # matchering's second input, part of the request key
    input_tags: dict[str, Any] = Field(default_factory=dict)  # a JSON summary; the runner re-reads the real tags
    chain: ChainLink | None = None  # a step of a chain of models (its stems land beside the song's other stems)

    @property
    def song_name(self) -> str | None:
        """The song's file name (the upload's, or the URL's last segment); a chain's later step keeps its song's."""
        if self.url and (self.kind == "url" or not self.input_path):
            tail = urlsplit(self.url).path.rstrip("/").rsplit("/", 1)[-1]
            return tail or None
        path = self.target_path if self.kind == "matchering" else self.input_path
        return PurePath(path).name if path else None

    @property
    def source_name(self) -> str | None:
        """The file name MVSep slugs into the job hash: the upload's (a chain step's: the stem it separates)."""
        if self.chain is not None and self.chain.upload_path:
            return PurePath(self.chain.upload_path).name
        return self.song_name

    @property
    def upload_path(self) -> str | None:
        """The file a ``file`` job uploads: its input, or for a chain's later step the stem of the step before
        (None while that step has not completed)."""
        if self.chain is not None and self.chain.after is not None:
            return self.chain.upload_path
        return self.input_path


class OutputFile(BaseModel):
    """One committed result file, verified as the audio that was promised."""

    stem: str
    path: str
    size: int
    sha256: str
    url: str
    format: str | None = None  # as read from the file (mp3, flac, wav, m4a, …)
    duration_s: float | None = None
    mtime_ns: int | None = None  # when it was committed: unchanged size and mtime mean an unchanged file
    alignment: dict[str, Any] | None = None  # how it lines up with the input (mvsep_mcp.daw.StemAlignment)
    warnings: list[str] = Field(default_factory=list)  # what disagreed without making it unusable (in the manifest)


class JobRecord(BaseModel):
    """A job as the journal holds it."""

    model_config = ConfigDict(extra="ignore")

    id: str
    spec: JobSpec
    state: JobState = JobState.QUEUED
    request_key: str = ""
    hash: str | None = None  # the hash polled with /separation/get
    remote_hash: str | None = None  # url jobs: the hash polled with /separation/get-remote
    mvsep_status: str | None = None
    queue_position: int | None = None
    queue_count: int | None = None
    queue_entry: int | None = None  # the queue place it entered at (progress through the queue is measured from it)
    running_since: float | None = None  # when MVSep was first seen processing it
    chunks_done: int | None = None
    chunks_total: int | None = None
    message: str | None = None  # MVSep's latest message (processing text, failure reason)
    files_total: int | None = None
    error: str | None = None  # our sentence when the job failed / expired / was refused
    created_at: float
    submitted_at: float | None = None  # when MVSep's job was created (for a reused job: the original's)
    finished_at: float | None = None
    updated_at: float
    outputs: list[OutputFile] = Field(default_factory=list)
    manifest_path: str | None = None
    reused_from: str | None = None  # id of the job whose MVSep result (or files) this one reuses
    refetch: bool = False  # created by refetch(): never creates on MVSep, always downloads
    result_gone: bool = False  # MVSep answered not_found for this job's hash: never reuse it
    # failed on this side only (saving the files, or no answer to polls): MVSep holds (or may still finish) the
    # result, so an identical request follows this job's hash again instead of creating a new job
    recoverable: bool = False
    waits_for: str | None = None  # an identical job into the same folder: its files become this job's when it ends
    partials: list[str] = Field(default_factory=list)  # temporary files of unfinished downloads (removed at the end)
    upload: UploadProgress | None = None  # how far the latest create got (None: before this was recorded)
    cancel_refused: str | None = None  # why the latest cancellation was refused (a task's status shows it)
    sessions: list[str] = Field(default_factory=list)  # DAW session files written beside the stems when asked
    made: list[str] = Field(default_factory=list)  # files made from the stems since (DJ stems, practice mixes)

    @property
    def account_key(self) -> str:
        return self.spec.account_key

    @property
    def is_terminal(self) -> bool:
        return self.state.is_terminal

    def phase(self) -> str:
        """A short human text of where the job is, for progress messages."""
        state = self.state
        if state is JobState.QUEUED and self.spec.chain is not None and self.spec.chain.waiting:
            return f"waiting for the step before (job {self.spec.chain.after})"
        if state is JobState.QUEUED:
            if self.waits_for:
                return f"waiting for job {self.waits_for} (the same request into the same folder) to share its files"
            return "queued locally: waiting for a free slot on the account"
        if state is JobState.SUBMITTING:
            return "uploading to MVSep"
        if state is JobState.UNCERTAIN:
            return "checking whether MVSep received the job"
        if state is JobState.ACTIVE:
            status = self.mvsep_status or "submitted"
            if status == "waiting":
                if self.queue_position is not None and self.queue_count is not None:
                    return f"queued: position {self.queue_position} of {self.queue_count}"
                return "queued at MVSep"
            if status == "distributing" and self.chunks_total:
                return f"chunks {self.chunks_done or 0}/{self.chunks_total}"
            return status
        if state is JobState.DOWNLOADING:
            total = self.files_total if self.files_total is not None else "?"
            return f"downloading {len(self.outputs)}/{total} files"
        if state is JobState.COMPLETED:
            sessions = f", DAW session {', '.join(PurePath(p).name for p in self.sessions)}" if self.sessions else ""
            return f"completed: {len(self.outputs)} files{sessions}"
        return f"{state.value}: {self.error}" if self.error else state.value


class ProgressUpdate(BaseModel):
    """One progress report from ``JobRunner.wait``: ``progress`` (the jobs' shares of the way summed, never lower
    than the previous report of the same wait) out of ``total`` jobs, and what changed."""

    progress: float
    total: int
    done: int  # jobs finished
    text: str
