"""Everything the sandbox knows, as plain Python: clock, accounts, catalogue, jobs, quality checker, news, faults.

The HTTP layer (``app.py``) is a thin translation of requests into calls on ``SandboxState``; tests may drive the state
directly too (``state.clock.advance(hours=73)``, ``state.clock.set_speed(720)``, ``state.add_account(...)``,
``state.timing = JobTiming.fast()``, ``state.faults.append(...)`` or ``state.inject("get:status=502:count=2")``,
``state.rate_limiter.limit = 5``) and read what reached it (``state.traffic``: request log, requests per Host header,
bytes served, jobs created per account).
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from mvsep_mcp.policy import (
    FREE_CONCURRENT_JOBS,
    MAX_UPLOAD_BYTES_FREE,
    MAX_UPLOAD_BYTES_PREMIUM,
    PREMIUM_CONCURRENT_JOBS,
    RESULT_RETENTION_HOURS,
)

from mvsep_mcp_testbench.sandbox.accounts import Account, AccountBook
from mvsep_mcp_testbench.sandbox.algorithms import DATA_DIR, AlgorithmEntry, Catalog, OptionError
from mvsep_mcp_testbench.sandbox.audio_misalign import Misalignment
from mvsep_mcp_testbench.sandbox.connections import ConnectionRegistry
from mvsep_mcp_testbench.sandbox.credits import MIRROR_PRICE, job_cost
from mvsep_mcp_testbench.sandbox.faults import FaultList, FaultRule
from mvsep_mcp_testbench.sandbox.mvsep_names import date_text, hash_stem, job_hash, remote_hash
from mvsep_mcp_testbench.sandbox.quality_checker import QualityBook
from mvsep_mcp_testbench.sandbox.ratelimit import DEFAULT_LIMIT_PER_MINUTE, RateLimiter
from mvsep_mcp_testbench.sandbox.separations import RUNNING_STATUSES, Job, JobTiming, Phase, RemoteJob
from mvsep_mcp_testbench.sandbox.traffic import Traffic

log = logging.getLogger(__name__)

MAX_UPLOAD_FREE_BYTES = MAX_UPLOAD_BYTES_FREE  # one capture says 50 MB (free) / 200 MB (paid)
MAX_UPLOAD_PREMIUM_BYTES = MAX_UPLOAD_BYTES_PREMIUM
OUTPUT_FORMAT_CODES = range(6)
FIRST_JOB_ID = 1_100_001  # MVSep-like ids; job number N (as fault rules count jobs) has id FIRST_JOB_ID + N - 1


class Clock:
    """Wall-clock time, run ``speed`` times as fast (1: real time), plus an adjustable offset: ``advance(hours=72)``
    moves every job forward at once; ``speed=720`` makes a real second twelve sandbox minutes, so that a week of
    MVSep (jobs, the 72-hour retention, rate limits) passes in 14 real minutes."""

    def __init__(self, speed: float = 1.0) -> None:
        if not speed > 0:
            raise ValueError(f"the sandbox clock's speed must be positive (got {speed!r})")
        self._speed = float(speed)
        self._origin = time.time()  # real time at which the current speed took effect
        self._offset = 0.0  # sandbox time at the origin, less the origin
        self._lock = threading.Lock()

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> float:
        real = time.time()
        return self._origin + (real - self._origin) * self._speed + self._offset

    def advance(self, hours: float = 0.0, *, seconds: float = 0.0) -> None:
        with self._lock:
            self._offset += hours * 3600.0 + seconds

    def set_speed(self, speed: float) -> None:
        """Run at ``speed`` from now on; sandbox time goes on from where it is (it never jumps)."""
        if not speed > 0:
            raise ValueError(f"the sandbox clock's speed must be positive (got {speed!r})")
        with self._lock:
            real = time.time()
            current = self._origin + (real - self._origin) * self._speed + self._offset
            self._origin, self._offset, self._speed = real, current - real, float(speed)


class CreateError(Exception):
    """A refused create: HTTP status and MVSep's ``errors[]`` texts."""

    def __init__(self, status: int, *errors: str) -> None:
        super().__init__("; ".join(errors))
        self.status = status
        self.errors = list(errors)


@dataclass
class CreateRequest:
    """A create request that passed the checks that need no audio."""

    account: Account
    algorithm: AlgorithmEntry
    options: dict[str, str]
    output_format: int
    is_demo: bool
    premium: bool


@dataclass
class SandboxState:
    storage_dir: Path | None = None
    timing: JobTiming = field(default_factory=JobTiming)
    retention_hours: float = RESULT_RETENTION_HOURS
    free_concurrent_jobs: int = FREE_CONCURRENT_JOBS
    premium_concurrent_jobs: int = PREMIUM_CONCURRENT_JOBS
    rate_limit: int = DEFAULT_LIMIT_PER_MINUTE
    audio_backend: ModuleType | Any | None = None  # mvsep_mcp_testbench.sandbox.audio unless a test passes a stand-in
    # stems a few ms long or short and MP3s without a gapless header, as real outputs (None: exact stems)
    misalignment: Misalignment | None = field(default_factory=Misalignment)
    speed: float = 1.0  # the clock runs this many times as fast as real time (jobs' timings are in sandbox seconds)

    def __post_init__(self) -> None:
        self._owns_storage = self.storage_dir is None
        if self.storage_dir is None:
            self.storage_dir = Path(tempfile.mkdtemp(prefix="mvsep-sandbox-"))
        self.storage_dir = Path(self.storage_dir)
        for sub in ("processed", "temp", "staging"):
            (self.storage_dir / sub).mkdir(parents=True, exist_ok=True)
        self.clock = Clock(self.speed)
        self.lock = threading.RLock()
        self.accounts = AccountBook.with_defaults(date_text(self.clock.now()))
        self.catalog = Catalog.load()
        self.jobs: dict[str, Job] = {}
        self.remote_jobs: dict[str, RemoteJob] = {}
        self.quality = QualityBook()
        self.news: list[dict[str, Any]] = json.loads((DATA_DIR / "news.json").read_text(encoding="utf-8"))
        self.faults = FaultList()
        self.traffic = Traffic()
        self.connections = ConnectionRegistry()
        self.rate_limiter = RateLimiter(self.clock.now, self.rate_limit)
        self._next_job_id = FIRST_JOB_ID - 1
        self._file_owners: dict[str, tuple[str, str, str]] = {}  # file name -> job hash, stem key, stem label
        self._renderer = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sandbox-render")

    # --- plumbing --------------------------------------------------------------------------------------------------

    @property
    def processed_dir(self) -> Path:
        assert self.storage_dir is not None
        return self.storage_dir / "processed"

    @property
    def temp_dir(self) -> Path:
        assert self.storage_dir is not None
        return self.storage_dir / "temp"

    @property
    def staging_dir(self) -> Path:
        assert self.storage_dir is not None
        return self.storage_dir / "staging"

    @property
    def audio(self) -> Any:
        if self.audio_backend is None:
            from mvsep_mcp_testbench.sandbox import audio as audio_module

            self.audio_backend = audio_module
        return self.audio_backend

    def now(self) -> float:
        return self.clock.now()

    def close(self) -> None:
        self._renderer.shutdown(wait=True, cancel_futures=True)
        if self._owns_storage and self.storage_dir is not None:
            shutil.rmtree(self.storage_dir, ignore_errors=True)

    def add_account(self, token: str, *, name: str = "Test User", email: str | None = None,
                    password: str = "password123", premium_minutes: int = 0, premium_enabled: int = 0,
                    long_filenames_enabled: int = 0) -> Account:
        now = date_text(self.now())
        return self.accounts.add(Account(token, name, email or f"{token[:8].lower()}@sandbox.mvsep.test", password,
                                         premium_minutes, premium_enabled, long_filenames_enabled, now, now))

    # --- faults ----------------------------------------------------------------------------------------------------

    def inject(self, spec: str | FaultRule) -> list[FaultRule]:
        """Add fault rules (a ``--faults`` text or one rule) and return them, so a test can read ``rule.fired``."""
        from mvsep_mcp_testbench.sandbox.fault_spec import parse_faults

        rules = [spec] if isinstance(spec, FaultRule) else parse_faults(spec)
        self.faults.extend(rules)
        return rules

    def job_number(self, job_hash: str | None) -> int | None:
        """1 for the first job this sandbox created, 2 for the next..., None for an unknown hash."""
        job = self.jobs.get(job_hash) if job_hash else None
        return None if job is None else job.id - FIRST_JOB_ID + 1

    def file_owner(self, name: str) -> tuple[str, str, str] | None:
        """``(job hash, stem key, stem label)`` of a rendered file name."""
        with self.lock:
            return self._file_owners.get(name)

    def can_fail(self, job_hash: str) -> bool:
        """The job exists and has not ended (so a fault can still make it fail)."""
        job = self.jobs.get(job_hash)
        return job is not None and job.failure is None and self.observe(job).status in RUNNING_STATUSES

    def fail_job(self, job_hash: str, message: str) -> bool:
        """Make a running job fail: ``failed`` with this message once its queue time is over; its credits stay spent."""
        with self.lock:
            job = self.jobs.get(job_hash)
            if job is None or job.failure is not None:
                return False
            job.failure = message
        return True

    # --- job status ------------------------------------------------------------------------------------------------

    def observe(self, job: Job) -> Phase:
        """The job's status now: the clock's phase, with rendering started and waited for before ``done``."""
        phase = job.phase(self.now())
        if phase.status in ("processing", "distributing", "merging", "done"):
            self._start_render(job)
            if job.render_state == "failed":
                return Phase("failed")
            if phase.status == "done" and job.render_state != "done":
                return Phase("merging" if job.is_long else "processing")
        return phase

    def status_of(self, job: Job) -> str:
        status = self.observe(job).status
        return "not_found" if status in ("expired", "cancelled") else status

    def in_flight(self, token: str) -> int:
        with self.lock:
            jobs = [j for j in self.jobs.values() if j.token == token]
            remote = [r for r in self.remote_jobs.values() if r.token == token and r.job_hash is None and not r.error]
        return sum(1 for j in jobs if self.observe(j).status in RUNNING_STATUSES) + len(remote)

    def _start_render(self, job: Job) -> None:
        with self.lock:
            if job.render_state != "pending":
                return
            job.render_state = "running"
        self._renderer.submit(self._render, job)

    def _render(self, job: Job) -> None:
        stems = list(job.algorithm.outputs.items())
        try:
            assert job.input_path is not None
            extra = {} if self.misalignment is None else {"misalignment": self.misalignment}
            rendered = self.audio.render_stems(job.input_path, stems, job.output_format, self.processed_dir,
                                               self.output_base_name(job), **extra)
        except Exception as exc:  # an undecodable or unrenderable input fails the job, as on MVSep
            log.info("sandbox job %s failed to render: %s", job.hash, exc)
            job.render_error = f"Error while processing the file: {exc}"
            job.render_state = "failed"
            return
        job.files = list(rendered)
        with self.lock:
            for item in job.files:
                self._file_owners[Path(item.path).name] = (job.hash, str(item.key), str(item.label))
        job.render_state = "done"

    def output_base_name(self, job: Job) -> str:
        """File name stem before ``_<stem>.<ext>``: short names as MVSep shows them, or with algorithm and options."""
        stem = hash_stem(job.hash)
        if job.long_filenames:
            parts = [stem, job.algorithm.long_slug, *job.algorithm.option_tokens(job.options)]
            return "_".join(parts)
        return f"{stem}_{job.algorithm.slug}_mt_{job.algorithm.model_key(job.options)}"

    def sweep(self) -> None:
        """Delete the files of expired jobs (history still lists them)."""
        now = self.now()
        with self.lock:
            gone = [j for j in self.jobs.values() if not j.files_deleted and (now >= j.expires_at or j.cancelled)]
            for job in gone:
                job.files_deleted = True
        for job in gone:
            for item in job.files:
                Path(item.path).unlink(missing_ok=True)
            for path in (job.input_path, job.reference_path):
                if path is not None:
                    path.unlink(missing_ok=True)

    # --- creating jobs ---------------------------------------------------------------------------------------------

    def check_create(self, token: str | None, form: dict[str, str]) -> CreateRequest:
        """Every check of a create that needs no audio; raises CreateError."""
        account = self.accounts.get(token)
        if account is None:
            raise CreateError(401, "invalid token")
        try:
            algorithm = self.catalog.find(int(str(form.get("sep_type", "")).strip()))
        except ValueError:
            algorithm = None
        if algorithm is None:
            raise CreateError(400, "Seperation type is not set")
        if not algorithm.is_active:
            raise CreateError(400, "Seperation type is temporarily unavailable")
        premium = account.spends_credits
        if algorithm.orientation >= 2 and not premium:
            raise CreateError(400, "Seperation type is unavailable until you purchase premium membership")
        try:
            options = algorithm.resolve_options({k: v for k, v in form.items() if k.startswith("add_opt")})
        except OptionError as exc:
            raise CreateError(400, str(exc)) from None
        raw_format = str(form.get("output_format", "0") or "0").strip()
        if not raw_format.isdigit() or int(raw_format) not in OUTPUT_FORMAT_CODES:
            raise CreateError(400, "The selected output format is invalid.")
        limit = self.premium_concurrent_jobs if premium else self.free_concurrent_jobs
        if self.in_flight(account.token) >= limit:
            if premium:
                raise CreateError(400, f"You can't have more than {limit} separations in progress at the same time. "
                                       "Please wait until one of them is finished.")
            raise CreateError(400, "You can't have more than 1 separation in progress at the same time. Please wait "
                                   "until the previous separation is finished or purchase premium membership.")
        if premium and account.premium_minutes < 1:
            raise CreateError(400, "You don't have enough credits to start this separation. "
                                   "Please buy more credits or disable premium.")
        is_demo = str(form.get("is_demo", "0")).strip().lower() in ("1", "true", "on", "yes")
        return CreateRequest(account, algorithm, options, int(raw_format), is_demo, premium)

    def upload_limit(self, request: CreateRequest) -> int:
        return MAX_UPLOAD_PREMIUM_BYTES if request.premium else MAX_UPLOAD_FREE_BYTES

    def create_job(self, request: CreateRequest, input_name: str, staged: Path, reference: Path | None = None) -> Job:
        """Turn a checked request and its staged input file into a job (charges credits). Blocking: probes audio."""
        try:
            duration: float | None = float(self.audio.probe_duration(staged))
        except Exception as exc:  # UndecodableAudio: accepted now, failed later, as MVSep does
            log.info("sandbox input %s is not decodable: %s", input_name, exc)
            duration = None
        tags: dict[str, Any] = {}
        if duration is not None:
            try:
                tags = dict(self.audio.read_getid3_tags(staged))
            except Exception:
                tags = {}
        cost = job_cost(request.algorithm, request.options, duration) if duration is not None else 0
        account = request.account
        with self.lock:
            if request.premium:
                if account.premium_minutes < cost:
                    staged.unlink(missing_ok=True)
                    raise CreateError(400, f"You don't have enough credits to start this separation: it costs {cost} "
                                           f"credits and you have {account.premium_minutes}.")
                account.premium_minutes -= cost
            now = self.now()
            taken = set(self.jobs)
            new_hash = job_hash(now, account.token, input_name, taken)
            input_path = self.temp_dir / new_hash
            shutil.move(str(staged), input_path)
            reference_path = None
            if reference is not None:
                reference_path = self.temp_dir / f"{hash_stem(new_hash)}_reference{reference.suffix}"
                shutil.move(str(reference), reference_path)
            self._next_job_id += 1
            job = Job(self._next_job_id, new_hash, account.token, request.algorithm, request.options,
                      request.output_format, input_path, input_name, input_path.stat().st_size, duration, now,
                      self.timing, self.retention_hours * 3600.0, request.premium, cost if request.premium else 0,
                      is_demo=request.is_demo, long_filenames=bool(account.long_filenames_enabled),
                      failure=None if duration is not None else "Unsupported or damaged audio file",
                      reference_path=reference_path, tags=tags)
            if duration is not None and "extract text" in request.algorithm.name.lower():
                job.transcription = f"[sandbox transcription of {input_name}: {duration:.1f} s of audio]"
            self.jobs[new_hash] = job
        self.traffic.count_create(account.token)
        return job

    def cancel(self, token: str | None, hash_text: str) -> bool:
        with self.lock:
            job = self.jobs.get(hash_text)
            if job is None or job.token != token or self.observe(job).status != "waiting":
                return False
            job.cancelled = True
            account = self.accounts.get(token)
            if account is not None and job.credits:
                account.premium_minutes += job.credits
                job.credits = 0
        self.sweep()
        return True

    def charge_mirror(self, token: str | None) -> str | None:
        """Take the mirror credit; an error text when that is not possible."""
        account = self.accounts.get(token)
        if account is None:
            return "invalid token"
        with self.lock:
            if account.premium_minutes < MIRROR_PRICE:
                return "You don't have enough credits to use a mirror."
            account.premium_minutes -= MIRROR_PRICE
        return None

    # --- URL input -------------------------------------------------------------------------------------------------

    def add_remote(self, request: CreateRequest, url: str) -> RemoteJob:
        with self.lock:
            remote = RemoteJob(remote_hash(), request.account.token, url, self.now(), {"request": request})
            self.remote_jobs[remote.hash] = remote
        return remote

    def finish_remote(self, remote: RemoteJob, input_name: str, staged: Path) -> None:
        try:
            job = self.create_job(remote.request["request"], input_name, staged)
        except CreateError as exc:
            remote.error = "; ".join(exc.errors)
            return
        remote.job_hash = job.hash

    # --- account views ---------------------------------------------------------------------------------------------

    def set_flag(self, token: str | None, flag: str, value: int) -> bool:
        account = self.accounts.get(token)
        if account is None:
            return False
        with self.lock:
            setattr(account, flag, value)
            account.updated_at = date_text(self.now())
        return True

    def jobs_of(self, token: str) -> list[Job]:
        with self.lock:
            return sorted((j for j in self.jobs.values() if j.token == token), key=lambda j: j.id, reverse=True)

    def demo_jobs(self) -> list[Job]:
        with self.lock:
            jobs = [j for j in self.jobs.values() if j.is_demo]
        done = [j for j in jobs if self.observe(j).status == "done"]
        return sorted(done, key=lambda j: j.id, reverse=True)

    def queue_counts(self) -> dict[str, int]:
        counts = {"unregistered": 0, "registered": 0, "premium": 0}
        with self.lock:
            jobs = list(self.jobs.values())
        for job in jobs:
            if self.observe(job).status in RUNNING_STATUSES:
                counts["premium" if job.premium else "registered"] += 1
        return counts

    def waiting_behind(self, job: Job) -> int:
        """Jobs of the same plan created after this one and still waiting (for ``queue_count``)."""
        with self.lock:
            later = [j for j in self.jobs.values() if j.premium == job.premium and j.id > job.id]
        return sum(1 for j in later if j.phase(self.now()).status == "waiting")
