"""The properties the fault suite asserts, as plain functions over what a run left behind.

Each check returns a list of findings (an empty list: the property holds), so a row of the table counts them and a
test prints them. The oracles are independent of the code under test where it matters: stems are read back with
mutagen and decoded to their end with libsndfile directly, the requests counted by the sandbox, the files listed from
the disk.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mutagen
from mvsep_mcp.jobs.models import JobRecord
from mvsep_mcp.media.files import is_temp_name

from mvsep_mcp_testbench.faults.knobs import FAULTS_DECODE_SLACK_S

# column -> what a non-zero count means (the "Done when" list, in its order)
PROPERTIES: dict[str, str] = {
    "lost": "jobs lost (not ended the way the fault allows)",
    "double": "double creates",
    "non_audio": "non-audio files reported as stems (or stems that do not decode to their end)",
    "leftovers": "partial, temporary or stray files left",
    "foreign": "requests to hosts outside the allow-list",
    "bad_dest": "credits spent on a destination that cannot take the files",
    "late_polls": "polls after a job ended",
    "stranded": "jobs stranded by an account switch",
    "leaks": "token leaks",
    "crashes": "crashes (a bare 'Error executing tool', raw validation text, a traceback, an unnamed argument)",
    "harm": "abuse that did harm (memory past a limit, a user locked out, unbounded MVSep requests or sockets, a "
            "string blanked or a line forged in the log)",
    "retried": "permanent disk failures tried again (stems fetched again, or fetched for a folder too small)",
    "stop": "stop signals not ending the server promptly with one line",
}
STATUS_PATH = "/api/separation/get"
_BARE_ERROR = re.compile(r"^Error executing tool [\w.-]+(: Error executing tool [\w.-]+)*\s*$")
_TRACEBACK = "Traceback (most recent call last)"
# pydantic's own text: "2 validation errors for separate_audioArguments", its URLs, "[type=list_type, input_value=3"
_RAW_VALIDATION = re.compile(r"validation errors? for \w|errors\.pydantic\.dev|\[type=\w+|input_value=")
_NAMED_ARGUMENT = re.compile(r"The argument '([^']+)' (?:is missing|was )")


@dataclass
class Row:
    """One line of the table: what ran, what it cost, how it ended, and the findings per property."""

    group: str  # fault | crash | destination | accounts | concurrency | fuzz | abuse
    name: str
    jobs: int = 0
    creates: int = 0
    bytes: int = 0  # bytes of result files the sandbox served
    outcome: str = ""
    findings: dict[str, list[str]] = field(default_factory=dict)
    seconds: float = 0.0
    fired: int | None = None  # how often the injected fault fired (None: no fault was injected)

    def add(self, prop: str, found: Iterable[str]) -> None:
        if prop not in PROPERTIES:
            raise KeyError(f"unknown property {prop!r}")
        self.findings.setdefault(prop, []).extend(found)

    def count(self, prop: str) -> int:
        return len(self.findings.get(prop, []))

    @property
    def ok(self) -> bool:
        return not any(self.findings.values())

    def problems(self) -> str:
        """Every finding, one line each (empty when the row passes)."""
        return "\n".join(f"{self.name}: {PROPERTIES[p]}: {f}" for p, found in self.findings.items() for f in found)


def not_audio(paths: Iterable[str | Path]) -> list[str]:
    """Files that are not readable audio with a length (read back with mutagen), or that look like text."""
    found = []
    for item in paths:
        path = Path(item)
        if not path.is_file():
            found.append(f"{path.name}: reported as a stem but missing")
            continue
        with path.open("rb") as handle:
            head = handle.read(64).lstrip()
        if head[:1] in (b"{", b"[", b"<"):
            found.append(f"{path.name}: text ({head[:20]!r}), not audio")
            continue
        try:
            audio: Any = mutagen.File(path)
        except Exception as exc:  # mutagen raises many kinds for foreign bytes
            found.append(f"{path.name}: mutagen cannot read it ({type(exc).__name__})")
            continue
        if audio is None or not getattr(audio.info, "length", 0) > 0:
            found.append(f"{path.name}: not audio with a duration")
            continue
        cut = _decodes_short(path, float(audio.info.length))
        if cut:
            found.append(f"{path.name}: {cut}")
    return found


def _decodes_short(path: Path, announced_s: float) -> str | None:
    """Why the file's audio (decoded by libsndfile: WAV, FLAC, MP3, Ogg) stops before the length its header announces
    (as mutagen read it), or None."""
    import numpy as np
    import soundfile as sf

    try:
        with sf.SoundFile(str(path)) as audio:
            rate, block, decoded = audio.samplerate, np.empty((1 << 16, audio.channels), dtype="float32"), 0
            while (got := len(audio.read(out=block))) > 0:
                decoded += got
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        if path.suffix.lower() in (".m4a", ".mp4"):
            return None  # AAC: libsndfile cannot decode it at all (its header was read above)
        return f"does not decode to its end ({exc})"
    if decoded / rate < announced_s - FAULTS_DECODE_SLACK_S:
        return f"decodes {decoded / rate:.2f} s of the {announced_s:.2f} s its header announces"
    return None


def stray_files(root: Path, expected: Iterable[str | Path]) -> list[str]:
    """Temporary files anywhere under ``root``, and files no job reports (neither a stem nor a manifest)."""
    if not root.exists():
        return []
    wanted = {Path(p).resolve() for p in expected}
    found = []
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        if is_temp_name(path.name):
            found.append(f"temporary file left: {path.relative_to(root)}")
        elif path.resolve() not in wanted:
            found.append(f"file no job reports: {path.relative_to(root)}")
    return found


def reported_files(jobs: Iterable[JobRecord]) -> tuple[list[str], list[str]]:
    """The stems and manifests the journal reports for these jobs."""
    stems, manifests = [], []
    for job in jobs:
        stems += [o.path for o in job.outputs]
        if job.manifest_path:
            manifests.append(job.manifest_path)
    return stems, manifests


def manifest_stems(manifests: Iterable[str | Path]) -> list[str]:
    """Every output path a manifest lists."""
    import json

    paths = []
    for manifest in manifests:
        data = json.loads(Path(manifest).read_text(encoding="utf-8"))
        paths += [o.get("absolute_path") or str(Path(manifest).parent / o["path"]) for o in data.get("outputs", [])]
    return paths


def foreign_requests(requests_by_host: Mapping[str, int], allowed: Iterable[str]) -> list[str]:
    """Requests that reached the sandbox under a Host header outside the allowed ones."""
    ok = set(allowed)
    return [f"{n} request(s) to {host}" for host, n in sorted(requests_by_host.items()) if host not in ok and n]


def late_polls(requests: Iterable[Any], jobs: Iterable[JobRecord]) -> list[str]:
    """Status polls that arrived after every job following that hash had ended (``requests``: the sandbox log)."""
    ended: dict[str, float] = {}
    running: set[str] = set()
    for job in jobs:
        if not job.hash:
            continue
        if job.is_terminal and job.finished_at is not None:
            ended[job.hash] = max(ended.get(job.hash, 0.0), job.finished_at)
        else:
            running.add(job.hash)
    counts: dict[str, int] = {}
    for request in requests:
        if request.path != STATUS_PATH or request.job_hash not in ended or request.job_hash in running:
            continue
        if request.started > ended[request.job_hash]:
            counts[request.job_hash] = counts.get(request.job_hash, 0) + 1
    return [f"{n} poll(s) of {job_hash[:24]}… after the job ended" for job_hash, n in counts.items()]


def token_leaks(token: str | None, texts: Mapping[str, str], folders: Iterable[Path] = (),
                allowed_files: Iterable[Path] = ()) -> list[str]:
    """Where the token shows up: in the given texts (results, logs) or any file under ``folders``."""
    if not token:
        return []
    found = [f"token in {name}" for name, text in texts.items() if token in text]
    allowed = {Path(p).resolve() for p in allowed_files}
    needle = token.encode()
    for folder in folders:
        if not folder.exists():
            continue
        for path in folder.rglob("*"):
            if path.is_file() and path.resolve() not in allowed and needle in path.read_bytes():
                found.append(f"token in the file {path.name}")
    return found


def crashes(results: Iterable[tuple[str, Any]]) -> list[str]:
    """Tool results that are a bare "Error executing tool X" (an unexpected exception), carry a traceback, or carry
    pydantic's own validation text instead of a sentence per argument."""
    found = []
    for name, result in results:
        text = result_text(result)
        bare = getattr(result, "is_error", False) and _BARE_ERROR.match(text.strip())
        if bare or _TRACEBACK in text or _RAW_VALIDATION.search(text):
            found.append(f"{name}: {text.strip()[:160]!r}")
    return found


def unnamed_arguments(name: str, schema: Mapping[str, Any], arguments: Mapping[str, Any], result: Any) -> list[str]:
    """A call without a required argument must be refused with the sentence naming it ("The argument 'x' is
    missing"), and a refusal names only arguments the tool has."""
    text = result_text(result)
    properties = schema.get("properties") or {}
    missing = [p for p in schema.get("required") or [] if p not in arguments]
    if missing and not getattr(result, "is_error", False):
        return [f"{name} ran without its required {', '.join(missing)}"]
    found = [f"{name}: the refusal does not name the missing '{p}': {text.strip()[:160]!r}"
             for p in missing if f"The argument '{p}' is missing" not in text]
    found += [f"{name}: a refusal names '{n}', which is no argument of it" for n in _NAMED_ARGUMENT.findall(text)
              if n not in properties]
    return found


def structured_or_fail(name: str, result: Any) -> dict[str, Any]:
    """A call that had to succeed: its structured content (``AssertionError`` with its text otherwise)."""
    if result.is_error or not isinstance(result.structured_content, dict):
        raise AssertionError(f"{name} failed: {result_text(result)[:500]}")
    return result.structured_content


def result_text(result: Any) -> str:
    """The text blocks of a tool result, and its structured content, as one string."""
    import json

    text = "\n".join(getattr(block, "text", "") for block in getattr(result, "content", []) or [])
    structured = getattr(result, "structured_content", None)
    if structured is not None:
        text += "\n" + json.dumps(structured, ensure_ascii=False)
    return text
