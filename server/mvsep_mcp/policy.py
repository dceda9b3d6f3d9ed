"""Every retry, polling, timeout and size number of the project, in one place.

Modules import these names rather than writing numbers inline, so that a policy change is one edit
and tests can shrink timings by passing explicit values instead of patching internals.
"""

from __future__ import annotations

# --- MVSep service facts -------------------------------------------------------------------------
DEFAULT_BASE_URL = "https://mvsep.com/api"
RESULT_RETENTION_HOURS = 72  # MVSep keeps result files about this long
FREE_CONCURRENT_JOBS = 1  # jobs in flight for an account without premium
MAX_UPLOAD_BYTES_FREE = 50 * 1024 * 1024  # the largest upload MVSep takes from a free account (one capture says so)
MAX_UPLOAD_BYTES_PREMIUM = 200 * 1024 * 1024  # …and from a premium one
PREMIUM_CONCURRENT_JOBS = 10  # older pages say 10, newer say unlimited: 10 is the safe side

# --- HTTP client ---------------------------------------------------------------------------------
CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 60.0
WRITE_TIMEOUT_S = 300.0  # uploads of large files over slow links
POOL_TIMEOUT_S = 10.0
UPLOAD_CHUNK_BYTES = 1 << 20  # uploads are streamed from disk in chunks of this size
DOWNLOAD_CHUNK_BYTES = 1 << 20  # downloads are written to disk in pieces of about this size
DOWNLOAD_MAX_REDIRECTS = 5  # a result file's redirects followed (each hop's host checked) before giving up

# --- retries (idempotent calls only; create is never re-sent blindly) ----------------------------
MAX_RETRIES = 4  # attempts after the first one
RETRY_BACKOFF_INITIAL_S = 0.5
RETRY_BACKOFF_MAX_S = 8.0
RETRY_BACKOFF_MULTIPLIER = 2.0
RETRY_JITTER_FRACTION = 0.25
RETRY_AFTER_MAX_S = 60.0  # a Retry-After larger than this is reported instead of slept through

# --- polling a job ------------------------------------------------------------------------------
POLL_INTERVAL_S = 5.0  # the back-off step while a job waits with no queue position to go by
POLL_INTERVAL_MAX_S = 30.0  # the longest pause while a job sits in the queue (a 10-minute job: fewer requests)
POLL_BACKOFF_MULTIPLIER = 1.5  # growth of that pause when nothing better is known
POLL_MIN_S = 1.0  # the shortest pause between two polls of a job (a short job's end is seen within this)
POLL_FIRST_S = 1.0  # the first poll after a create (MVSep needs a moment to register the job)
POLL_RUNNING_MAX_S = 4.5  # while a job runs, its end is seen within this (plus the download): "within 5 s"
POLL_RUNNING_GROWTH = 0.3  # with no estimate, the pause grows as this share of the time the job has run
POLL_QUEUE_SHARE = 0.5  # with an estimate, ask again after this share of the time still expected
POLL_LEARNING_WEIGHT = 0.5  # weight of the newest observation in the learnt queue and processing times
POLL_GUESS_S_PER_POSITION = 5.0  # a queue place's wait until one has been seen to move (then learnt)
POLL_AIM_MARGIN_S = 0.2  # a poll aimed at a job's expected end comes this much after it
# the learnt length of a kind of job (mvsep_mcp/jobs/lengths.py): it follows recent jobs up and down within these
PACE_MARGIN_SHARE = 0.1  # a settled estimate is this close to recent jobs' lengths (and an early look this early)…
PACE_MARGIN_MIN_S = 0.5  # …or this close, whichever is more (a poll's own timing is not finer than this)
PACE_STEP_MAX = 0.25  # one job moves the estimate by at most this share of it: one outlier moves it only a little
PACE_STEP_GROWTH = 2.0  # …each further job surprising the same way doubles it (and the early look's lead): a real
#                         change is followed within a few jobs
PACE_SETTLED_SHARE = 0.5  # a job that moves the estimate less than this share of the margin needs no extra early look
PACE_EARLY_EVERY = 4  # every so many jobs of a kind is also looked at before its expected end, so the estimate can fall
PACE_EARLY_LEAD_MAX_SHARE = 0.75  # an early look never comes sooner than a quarter of the expected length
PACE_EARLY_BUDGET_SHARE = 0.8  # …and is given up (the next job gets it) once the account spent this share of its budget
UNKNOWN_STATUS_MAX_S = 600.0  # an unknown status is "not finished" only for this long
POLL_GONE_CONFIRMATIONS = 3  # "not found" (or HTTP 404/410) this many times in a row before a job is given up
POLL_GONE_RECHECK_S = 2.0  # …asked again this soon (a job MVSep has just created may briefly be unknown)
POLL_FAILURE_BUDGET_S = 1800.0  # polls that get no usable answer for this long end the job (it may finish on MVSep)

# --- MCP tool calls -------------------------------------------------------------------------------
WAIT_CALL_BUDGET_S = 45.0  # a status/wait tool blocks at most this long (hosts cut calls at ~60 s)
PROGRESS_INTERVAL_S = 5.0  # a waiting call reports progress at least this often
PROGRESS_PROCESSING_GUESS_S = 120.0  # with no better estimate, processing progress creeps on this time scale
PROGRESS_JOBS_NAMED = 3  # a batch's progress message names this many unfinished jobs
PROGRESS_STEP = 0.005  # a batch's progress is reported again once it has moved this much (of one job)
SUBMIT_WAIT_S = 20.0  # a separation call waits this long for its creates, so refusals show in its own answer
MAX_INPUTS = 200  # inputs in one separation call: more is a mistake more often than a batch
MAX_CHAIN_STEPS = 3  # models in one chain, the first included: each step is a paid job; three cover the known uses
USER_INFO_TTL_S = 60.0  # the account's info (premium, credits) is re-read from MVSep after this long

# --- catalogue cache ------------------------------------------------------------------------------
CATALOG_TTL_S = 6 * 3600  # served from disk this long; stale copies still served when MVSep is down
LEADERBOARD_TTL_S = 24 * 3600  # a leaderboard changes when someone submits a model: a day old is still the evidence
LEADERBOARD_PAGE_SIZE = 100  # entries per leaderboard request (the tool's own page limit)
LEADERBOARD_MAX_PAGES = 5  # pages read per dataset to rank models: the best few hundred entries are the evidence
RECOMMEND_DEFAULT_LIMIT = 5  # models recommend_models lists unless asked for more

# --- output files --------------------------------------------------------------------------------
MAX_PATH_CHARS = 240  # stay under Windows' 260 with room for a suffix and temp name
MAX_NAME_CHARS = 120  # one path component
NAME_MAX_BYTES = 240  # UTF-8 bytes per component: Linux/macOS allow 255, leaving room for " (2)"

# --- verifying a downloaded stem (mvsep_mcp/media/verify.py) -------------------------------------
STEM_DURATION_SLACK_S = 2.0  # a stem may differ this much from the input's duration (codec padding, rounding)…
STEM_DURATION_SLACK_FRACTION = 0.02  # …or this fraction of it, whichever is larger
STEM_SIZE_SLACK_FRACTION = 0.02  # margin on MVSep's rounded size text ("5.84 MB") beyond its rounding (a warning)
MP3_SYNC_SEARCH_BYTES = 1 << 16  # an MP3 stem's first frame is looked for this far after its ID3v2 tag (padding)

# --- MVSep client (mvsep_mcp/mvsep) -----------------------------------------------------------------
ERROR_BODY_MAX_CHARS = 2000  # an error keeps at most this much of a non-JSON body (HTML 5xx pages)
ERROR_MESSAGE_MAX_CHARS = 300  # MVSep's message as shown in an error sentence

# --- job runner (mvsep_mcp/jobs) --------------------------------------------------------------------
RECONCILE_SLACK_S = 300.0  # a history entry this long before a job's submitted_at may still be that job
RECONCILE_HISTORY_PAGES = 5  # pages of 20 history entries searched when reconciling an uncertain create
RECONCILE_ATTEMPTS = 3  # history lookups before an uncertain job is declared failed (the create may lag)
RECONCILE_RETRY_S = 5.0  # pause between those lookups
CREATE_BACKOFF_INITIAL_S = 2.0  # an account's creates pause this long after a 429 or transport error, doubling
CREATE_BACKOFF_MAX_S = 120.0
DOWNLOAD_CONCURRENCY = 6  # stem files downloaded at once across the runner (a job has up to about 6 stems)
DOWNLOAD_MAX_ATTEMPTS = 5  # a job whose downloads fail this many times in a row is failed (the files stay on MVSep)
DOWNLOAD_RETRY_S = 5.0  # pause before a failed download is tried again
JOB_ID_HEX_CHARS = 7  # job ids look like "j7f3a9c2"
RUNNER_IDLE_WAKE_S = 60.0  # with nothing due, the runner still looks at the journal this often
REUSE_CANDIDATES = 3  # completed identical jobs looked at (newest first) when reusing files on disk
HISTORY_PAGE_SIZE = 20  # MVSep's separation history serves at most this many entries a page
SLUG_MIN_PREFIX = 40  # a history slug shorter than ours counts as MVSep's truncation only from this length on
JOURNAL_BUSY_TIMEOUT_S = 10.0  # a journal write waits this long for another process's lock
JOURNAL_WAL_RETRY_S = 0.01  # a new journal file that another process is migrating: its switch to WAL is retried
JOURNAL_SALVAGE_CHUNK_ROWS = 256  # a damaged journal whose table end is cut is read forward this many rows at a time…
JOURNAL_SALVAGE_EMPTY_CHUNKS = 4  # …until this many chunks in a row hold no row (jobs' row numbers are dense)
HASH_CHUNK_BYTES = 1 << 20  # files are hashed in reads of this size
WORKER_THREADS = 8  # threads for file work (probe, tag, hash, commit): more cost memory, not speed, on 2-4 cores
MALLOC_ARENAS = 2  # glibc malloc arenas the worker threads share: each extra arena keeps megabytes it once used
HASH_CACHE_MAX_ENTRIES = 10_000  # input hashes remembered by (device, inode, size, mtime): the newest are kept

# --- catalogue search and matching (mvsep_mcp/catalog) ----------------------------------------------
# Ratings are ranked by a Bayesian average: each model's votes are blended with this many phantom votes
# of this mean, so "5.0 from 1 vote" does not outrank "4.5 from 40 votes".
CATALOG_RATING_PRIOR_MEAN = 3.0
CATALOG_RATING_PRIOR_VOTES = 5
CATALOG_SUGGESTIONS = 5  # closest names offered when a model is not found
CATALOG_FUZZY_CUTOFF = 0.8  # difflib ratio a lone fuzzy name match must reach to be accepted

# --- sharing one journal between server processes ---------------------------------------------------------------
LEASE_TTL_S = 30.0  # a runner's claim on an account's jobs lapses this long after its last renewal
LEASE_RENEW_S = 10.0  # how often the holder renews it (well inside the ttl)
JOURNAL_RECHECK_S = 1.0  # a waiting call re-reads the journal this often, for work done by another process
POSTGRES_POOL_SIZE = 4  # connections one server keeps to a shared PostgreSQL journal (every call is short)
POSTGRES_CONNECT_TIMEOUT_S = 10.0  # start-up waits this long for the database, then says it cannot be reached
POSTGRES_STATEMENT_TIMEOUT_S = 30.0  # no journal statement may wait longer (a stuck lock shows as an error)

# --- DAW (mvsep_mcp/daw: aligned stems, BWF metadata, session files) -----------------------------------------
DAW_READY_DEFAULT = True  # WAV/FLAC stems are trimmed or padded to the input's exact length unless switched off
DAW_MAX_ADJUST_S = 1.0  # a stem off by more than this is not padding but a different take: reported, never cut
DAW_COPY_BLOCK_BYTES = 1 << 20  # WAV chunks are copied in blocks of this size when a file is rewritten
DAW_IN_PLACE_TAIL_MAX_BYTES = 16 << 20  # chunks after the audio (tags, cover) moved in memory when cut in place
DAW_IN_PLACE_HEAD_MAX_BYTES = 16 << 20  # chunks before the audio rewritten in memory when room is made there in place
DAW_PCM_BLOCK_FRAMES = 65536  # FLAC stems are re-encoded this many frames at a time (memory stays a few MB)
# DJ stems and practice mixes (make_dj_stems, mix_stems): files made from a completed job's stems
MIX_PEAK_CEILING_DB = -0.1  # a sum of stems that would clip is lowered to peak here (the gain is in the manifest)
MIX_AAC_BIT_RATE = 256_000  # an m4a mix is AAC at the rate MVSep's own m4a stems have
# the stem player (an MCP App on wait_for_jobs): peaks in the result, short previews through resources/read
PLAYER_PEAKS = 800  # waveform slices per stem: one byte each, about a pixel per slice in a chat-wide player
PLAYER_MAX_STEMS = 24  # stems one result carries to the player (six songs of four stems); more are left out, said so
PLAYER_PEAKS_CACHE = 256  # stems whose peaks are kept in memory (by path, size and mtime): waits repeat often
PREVIEW_SECONDS = 30.0  # a preview is the stem's first seconds: long enough to judge, small for the host's bridge
PREVIEW_MAX_RATE = 24_000  # previews are mono MP3 at an MPEG-2 rate (22.05/24 kHz, or the stem's own when lower)
PREVIEW_MP3_LEVEL = 0.8  # libsndfile's compression level for CBR MP3: 40 kbit/s at 22.05/24 kHz, ~150 KB per 30 s
PREVIEW_MAX_BYTES = 512_000  # a preview larger than this is refused with a sentence (base64 makes it a third larger)

# --- stopping (mvsep_mcp/serving/stopping.py) -------------------------------------------------------------------------
STOP_GRACE_S = 10.0  # SIGTERM/SIGINT: the process exits once its session is closed, and at the latest after this

# --- `mvsep-mcp doctor` (mvsep_mcp/doctor.py) -------------------------------------------------------
DOCTOR_TIMEOUT_S = 10.0  # one check waits at most this long for MVSep: a person is watching the terminal
DOCTOR_MAX_RETRIES = 1  # one retry tells a blip from an outage without making a dead host take a minute
DOCTOR_JOURNAL_TIMEOUT_S = 2.0  # a journal locked by a running server is still readable after a short wait

# --- polling budget ------------------------------------------------------------------------------
# MVSep documents 60-120 API requests a minute per account; an account's status requests (all its jobs
# together) stay well under the lower figure, leaving room for creates and downloads.
ACCOUNT_STATUS_REQUESTS_PER_MINUTE = 30

# --- tasks (the MCP tasks extension: a separation request answered with a task that a client polls) ---------------
TASK_POLL_MIN_S = 1.0  # a task's suggested poll interval never asks a client to come back sooner than this
TASK_POLL_MAX_S = 30.0  # ... nor later than this (the runner may learn something sooner than its next status poll)
TASK_ID_BYTES = 18  # random bytes in a task id (a batch id): unguessable, the spec's bearer-token rule

# --- stems as MCP resources ---------------------------------------------------------------------------------------
# A resources/read answer carries the whole file, base64, in one JSON message: hosts and transports handle a few tens
# of MB at most (a 4-minute 16-bit stereo WAV is ~40 MB; the same stem as FLAC ~25 MB).
RESOURCE_READ_MAX_BYTES = 32 * 2**20

# --- list freshness (2026-07-28 cache hints) -----------------------------------------------------------------------
LIST_TTL_MS = 60 * 60 * 1000  # tools, prompts and resource lists change only when the server restarts with new settings

# --- hosted for many users (mvsep_mcp/hosted: OAuth resource server, per-user accounts and storage) ------------------
JWKS_CACHE_S = 300.0  # the authorization server's signing keys are fetched again after this long (or on a new key id)
JWKS_TIMEOUT_S = 10.0  # fetching the JWKS waits this long; a token whose key cannot be fetched is refused (401)
JWT_LEEWAY_S = 10.0  # clock skew allowed on exp/nbf/iat between the authorization server and this server
INTROSPECTION_TIMEOUT_S = 10.0  # an RFC 7662 introspection call waits this long; no answer refuses the token
INTROSPECTION_CACHE_S = 60.0  # an active introspection answer is reused this long (never past the token's expiry)
INTROSPECTION_CACHE_ENTRIES = 10_000  # introspected tokens remembered (by their SHA-256), the oldest dropped first
API_KEY_BYTES = 32  # random bytes in a static API key: 256 bits, so one SHA-256 of it is a safe stored form
LINK_TICKET_BYTES = 32  # random bytes in a one-time account-link URL (unguessable, stored only as its SHA-256)
LINK_TICKET_TTL_S = 900.0  # a link to the account page works this long, once: time to find the MVSep token
DOWNLOAD_URL_TTL_S = 3600.0  # a signed download URL of a stem works this long (a new one comes with every answer)
USER_QUOTA_MB = 2048  # default storage per hosted user (stems, manifests, sessions); new jobs refused beyond it
RETENTION_DAYS = 7.0  # default: a hosted user's files older than this are deleted (MVSep itself keeps results 72 h)
RETENTION_SWEEP_S = 3600.0  # how often the retention sweep runs over the users' folders
HOSTED_RESUME_SWEEP_S = 30.0  # how often a replica attaches accounts whose unfinished jobs no process works
JOB_TOKEN_GRACE_S = 60.0  # a token kept for jobs outlives this at least: its request records them within moments
ACCOUNT_IDLE_S = 900.0  # a hosted user's MVSep client, unused this long with no unfinished job, is closed (memory)
LINK_WAIT_S = 40.0  # after the user agreed to open the link page, a call waits this long (hosts cut at ~60 s)
LINK_CHECK_S = 1.0  # ... looking this often whether it is done
LOG_SECRETS_MAX = 10_000  # trusted values kept out of the logs (at the bound a new one is refused, none dropped)

# --- hosted hardening: limits before parsing, fair shares, costs of X-MVSep-Token (SECURITY.md lists them all) --------
MCP_BODY_MAX_BYTES = 4 * 1024 * 1024  # a JSON-RPC request to /mcp (the SDK's own limit; a tool call is a few KB)
LINK_FORM_MAX_BYTES = 4096  # the link page's form: a token of at most 200 characters and two short fields
LINK_FORM_MAX_FIELDS = 4  # token, confirm, action and one spare: anything more is not our form
OTHER_BODY_MAX_BYTES = 16 * 1024  # every other route takes no body (GET); a little slack for odd clients
SESSIONS_PER_USER = 32  # default legacy sessions one principal may hold (a user runs a few hosts at once)
CALLS_PER_MINUTE = 120  # default tool calls (and resource reads) per principal per minute (an agent makes ~10)
RATE_LIMIT_KEYS_MAX = 100_000  # principals whose call budget is remembered (the least recently used go first)
HEADER_TOKENS_PER_USER = 3  # different X-MVSep-Token values one principal may use within the window below
HEADER_TOKEN_WINDOW_S = 900.0  # ... (as long as an idle account is kept: each token costs an account)
TOKEN_VERDICT_S = 300.0  # MVSep's answer on a header token (accepted or refused) is remembered this long
TOKEN_VERDICTS_MAX = 100_000  # header-token verdicts remembered (by SHA-256; the oldest go first)
MVSEP_MAX_CONNECTIONS = 64  # sockets to MVSep shared by every account of a server (one pool)
MVSEP_KEEPALIVE_CONNECTIONS = 16  # ... of which kept open while idle
JWKS_REFETCH_COOLDOWN_S = 60.0  # an unknown key id fetches the JWKS again at most this often (PyJWT's cooldown)

# --- answers by the book (mvsep_mcp_tools: argument sentences, completions; hosting: SSE resumption) ---------------
ARGUMENT_SHOWN_CHARS = 60  # a wrong argument's value as a refusal repeats it: enough to recognise, never a wall
COMPLETION_MAX_VALUES = 100  # suggestions in one completion/complete answer: the spec's ceiling
COMPLETION_JOBS_SCANNED = 200  # the caller's newest jobs whose ids (and songs) a job_id completion looks through
COMPLETION_DIR_ENTRIES = 2000  # entries of one folder a path completion reads: a huge folder answers at once anyway
SSE_RETRY_MS = 2000  # the SSE `retry:` a client waits before it resumes a dropped stream (a blip, not an outage)
SSE_RESUME_WINDOW_S = 300.0  # a request's stream may be resumed this long after it began (calls last under a minute)
SSE_RESUME_MAX_STREAMS = 10_000  # streams remembered for resumption, all sessions together (about 200 bytes each)
SSE_EVENT_ID_BYTES = 16  # random bytes in a priming event's id: a stream is resumed only by who was sent its id
