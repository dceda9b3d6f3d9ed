"""The MVSep stand-in of a benchmark run: the sandbox on 127.0.0.1, its accounts, job timings and request log.

Two things differ from the plain sandbox, both so that the service, not the client, sets the pace:

- jobs are rendered as soon as they start processing and their finish time is recorded (``done_at``) by a ticker
  thread, as a real service finishes a job whether or not anybody asks (the plain sandbox renders a job only once a
  status request sees it past the queue, which would charge rendering to sparse pollers);
- uploads are accepted up to 4 GiB (MVSep's own limit is 200 MB), so that the upload figure can use a file large
  enough to show memory growth.

Job timings are set per account (``set_timing``), since scenarios of different accounts run at the same time, or per
job (``plan_timing``: the account's next create gets it). The soak runs the service's clock faster (``speed``), moves
it on between jobs, and restarts the service on the same address with every job kept (``restart``).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from pathlib import Path

from mvsep_mcp_testbench.sandbox import JobTiming, SandboxServer, SandboxState
from mvsep_mcp_testbench.sandbox.separations import Job
from mvsep_mcp_testbench.sandbox.state import CreateRequest

TICK_S = 0.02  # how often the ticker looks at the jobs (the precision of done_at)
BENCH_UPLOAD_LIMIT = 4 << 30
PREMIUM_CREDITS = 1_000_000
STATUS_PATHS = ("/api/separation/get", "/api/separation/get-remote")


class BenchState(SandboxState):
    def __post_init__(self) -> None:
        super().__post_init__()
        self.account_timing: dict[str, JobTiming] = {}
        self.planned_timing: dict[str, deque[JobTiming]] = {}
        self.created_real: dict[str, float] = {}  # job hash -> time.time() of its create

    def upload_limit(self, request: CreateRequest) -> int:
        return BENCH_UPLOAD_LIMIT

    def create_job(self, request: CreateRequest, input_name: str, staged: Path, reference: Path | None = None) -> Job:
        job = super().create_job(request, input_name, staged, reference)
        planned = self.planned_timing.get(job.token)
        # before anyone knows the job's hash
        job.timing = planned.popleft() if planned else self.account_timing.get(job.token, job.timing)
        self.created_real[job.hash] = time.time()
        return job


class BenchService:
    """``with BenchService(root) as service:`` the sandbox runs; ``service.base_url`` is its API."""

    def __init__(self, root: Path, *, speed: float = 1.0) -> None:
        self.state = BenchState(storage_dir=root / "sandbox", speed=speed)
        self.server = SandboxServer(self.state)
        self.done_at: dict[str, float] = {}  # job hash -> time.time() when the service first had it done
        self.labels: dict[str, str] = {}  # token -> account label
        self._lazy: set[str] = set()  # tokens whose jobs are never rendered (upload and curl references)
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, name="bench-ticker", daemon=True)

    # --- lifecycle -----------------------------------------------------------------------------------------------

    def __enter__(self) -> BenchService:
        self.server.start()
        self._ticker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._ticker.join(timeout=5)
        self.server.stop()
        self.state.close()

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def root_url(self) -> str:
        return self.server.root_url

    # --- accounts and timing -------------------------------------------------------------------------------------

    def account(self, label: str, *, premium: bool, render: bool = True) -> str:
        """A new sandbox account for one scenario; its token (30 letters and digits, like MVSep's)."""
        token = ("Bench" + "".join(ch for ch in label.title() if ch.isalnum()) + "0" * 30)[:29]
        token += str(len(self.labels) % 10)
        self.state.add_account(token, name=f"Bench {label}", email=f"{label.lower()}@bench.mvsep.test",
                               premium_minutes=PREMIUM_CREDITS if premium else 0, premium_enabled=int(premium))
        self.labels[token] = label
        if not render:
            self._lazy.add(token)
        return token

    def plan_timing(self, token: str, timing: JobTiming) -> None:
        """The account's next create gets ``timing`` (then the ones planned after it, then the account's own)."""
        self.state.planned_timing.setdefault(token, deque()).append(timing)

    def restart(self, pause_s: float) -> None:
        """The service goes away for ``pause_s`` seconds (connections refused) and comes back on the same address with
        every job and file as it was; its clock runs on meanwhile. Blocking."""
        port = self.server.port
        self.server.stop()
        time.sleep(pause_s)
        self.server = SandboxServer(self.state, port=port).start()

    def concurrency(self, premium: bool) -> int:
        return self.state.premium_concurrent_jobs if premium else self.state.free_concurrent_jobs

    def set_timing(self, token: str, timing: JobTiming) -> None:
        """Jobs the account creates from now on get ``timing`` (a job keeps the timing it was created with)."""
        self.state.account_timing[token] = timing

    # --- jobs ----------------------------------------------------------------------------------------------------

    def jobs_of(self, token: str) -> list[Job]:
        return self.state.jobs_of(token)

    def drop_jobs(self, token: str) -> None:
        """Cancel the account's waiting jobs and delete their files (the upload references)."""
        for job in self.jobs_of(token):
            self.state.cancel(token, job.hash)
        self.state.sweep()

    def stem_urls(self, job_hash: str) -> list[str]:
        job = self.state.jobs[job_hash]
        return [f"{self.root_url}/storage/processed/{Path(item.path).name}" for item in job.files]

    def _tick(self) -> None:
        while not self._stop.wait(TICK_S):
            for job in list(self.state.jobs.values()):
                if job.hash in self.done_at or job.token in self._lazy or job.cancelled:
                    continue
                status = self.state.observe(job).status  # starts rendering once the job leaves the queue
                if status == "done":
                    self.done_at[job.hash] = time.time()

    # --- requests ------------------------------------------------------------------------------------------------

    def status_request_times(self, token: str) -> list[float]:
        return sorted(r.started for path in STATUS_PATHS for r in self.state.traffic.records(path, token=token))

    def status_request_times_of(self, job_hash: str) -> list[float]:
        """When the status requests about one job arrived (``time.time()`` values, in order)."""
        return sorted(r.started for path in STATUS_PATHS for r in self.state.traffic.records(path, job_hash=job_hash))

    def status_requests(self, since: float, until: float | None = None) -> int:
        """Status requests of every account that arrived between ``since`` and ``until`` (``time.time()`` values)."""
        return sum(len(self.state.traffic.records(path, since=since, until=until)) for path in STATUS_PATHS)

    def upload_bytes(self, since: float, until: float | None = None) -> int:
        return self.state.traffic.bytes_in("/api/separation/create", since=since, until=until)
