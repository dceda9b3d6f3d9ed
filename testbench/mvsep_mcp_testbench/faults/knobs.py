"""Every number of the fault suite (``mvsep-mcp faults``, tests/faults), each with a one-line reason.

The product's own numbers are in :mod:`mvsep_mcp.policy`; these are the suite's: the budgets it gives a server run in
its own process (so that every give-up path ends in seconds, not minutes), and the sizes and deadlines of its cases.
"""

from __future__ import annotations

# Budgets the suite gives the server in its own process, so that every give-up path ends in seconds, not minutes.
FAULTS_POLL_INTERVAL_S = 0.05  # the server polls the sandbox this often (the settings' floor)
FAULTS_RETRY_PAUSE_S = 0.2  # reconcile, download and create back-off pauses under the suite
FAULTS_RETRY_BACKOFF_S = 0.05  # the HTTP client's first back-off (doubling, capped at 4x) under the suite
FAULTS_POLL_FAILURE_BUDGET_S = 2.0  # polls without a usable answer end a job after this long under the suite
FAULTS_UNKNOWN_STATUS_MAX_S = 1.0  # an unknown status ends a job after this long under the suite
FAULTS_GONE_RECHECK_S = 0.1  # "not found" is asked again this soon under the suite
FAULTS_JOB_DEADLINE_S = 60.0  # a job still running after this long counts as lost
FAULTS_SETTLE_S = 1.0  # after the jobs end, the suite watches this long for polls that should not come
FAULTS_CONCURRENT_CALLS = 200  # tool calls sent at once to one server
FAULTS_FUZZ_EXAMPLES = 25  # fuzzed argument sets per tool (hypothesis examples)
FAULTS_KILL_INPUT_SECONDS = 150.0  # a WAV this long (~26 MB) outlasts the socket buffers: a kill lands mid-upload
FAULTS_DISK_INPUT_S = 20.0  # the disk cases' song: its two FLAC stems are megabytes, far above the limits below
FAULTS_SMALL_DISK_BYTES = 512_000  # the full disk: a tmpfs this small (the announced stems do not fit)…
FAULTS_LARGE_DISK_BYTES = 64_000_000  # …then grown to this for the same request again
FAULTS_FILE_SIZE_LIMIT_BYTES = 1_500_000  # RLIMIT_FSIZE of the server: above its journal and caches, below a stem
FAULTS_WAIT_CALLS = 40  # wait_for_jobs calls (of at most 5 s) a case waits for a job to end
FAULTS_DECODE_SLACK_S = 0.1  # the oracle: a decoder and a header may differ by an encoder's padding, not a cut tail
FAULTS_STOP_S = 5.0  # SIGTERM: the server must be gone within this (it exits once its session is closed)
