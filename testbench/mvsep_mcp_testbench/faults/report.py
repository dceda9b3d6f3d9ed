"""`mvsep-mcp faults`: run the whole suite and print one table (Markdown, so it pastes into a README or an issue).

Groups, in the order they run: ``faults`` (every fault kind, single job and batch), ``destinations``, ``disks`` (full,
a file-size limit, read-only, deleted), ``journal`` (two processes on one journal, a damaged journal), ``accounts``,
``load`` (concurrent calls), ``crash`` (SIGKILL at each phase and a restart; SIGTERM mid-download), ``fuzz``,
``abuse`` (the hosted server as an attacker tries it: ``abuse.py``). Each row counts, per property of
``checks.PROPERTIES``, what went wrong (0 everywhere is the goal); the exit status is 1 when any row has a finding.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio

from mvsep_mcp_testbench.faults import checks, knobs
from mvsep_mcp_testbench.faults.abuse import run_abuse
from mvsep_mcp_testbench.faults.account_switch import run_switch
from mvsep_mcp_testbench.faults.crash import POINTS, run_crash
from mvsep_mcp_testbench.faults.destinations import run_destinations
from mvsep_mcp_testbench.faults.disks import CASES as DISK_CASES
from mvsep_mcp_testbench.faults.disks import run_disk_case, writable_again
from mvsep_mcp_testbench.faults.journals import run_damaged, run_two_processes
from mvsep_mcp_testbench.faults.knobs import FAULTS_FUZZ_EXAMPLES as FUZZ_EXAMPLES
from mvsep_mcp_testbench.faults.load import run_load
from mvsep_mcp_testbench.faults.matrix import CASES, run_case

GROUPS = ("faults", "destinations", "disks", "journal", "accounts", "load", "crash", "fuzz", "abuse")
HEADERS = {"lost": "lost", "double": "double", "non_audio": "non-audio", "leftovers": "left", "foreign": "foreign",
           "bad_dest": "bad dest", "late_polls": "late polls", "stranded": "stranded", "leaks": "leaks",
           "crashes": "crashes", "harm": "harm", "retried": "retried", "stop": "stop"}
OUTCOME_CHARS = 100
HYPOTHESIS_MISSING = "not run: hypothesis is missing (pip install 'mvsep-mcp[test]')"


async def run_groups(groups: tuple[str, ...] = GROUPS, *, examples: int = knobs.FAULTS_FUZZ_EXAMPLES,
                     seed: int | None = None,
                     on_row: Callable[[checks.Row], None] | None = None) -> list[checks.Row]:
    """Run the groups in order; ``on_row`` hears of each row as it is done."""
    rows: list[checks.Row] = []

    def done(row: checks.Row) -> None:
        rows.append(row)
        if on_row is not None:
            on_row(row)

    for group in groups:
        for step in _steps(group, examples, seed):
            for row in await step():
                done(row)
    return rows


def _steps(group: str, examples: int, seed: int | None) -> Iterator[Callable[[], Awaitable[list[checks.Row]]]]:
    if group == "faults":
        for case in CASES:
            yield lambda case=case: _one(run_case(case))  # type: ignore[misc]
    elif group == "destinations":
        yield run_destinations
    elif group == "disks":
        for disk in DISK_CASES:
            yield lambda disk=disk: _one(_disk_case(disk))  # type: ignore[misc]
    elif group == "journal":
        yield lambda: _one(_in_folder(run_two_processes))
        yield lambda: _one(_in_folder(run_damaged))
    elif group == "accounts":
        yield lambda: _one(run_switch())
    elif group == "load":
        yield lambda: _one(run_load())
    elif group == "crash":
        for point in POINTS:
            yield lambda point=point: _one(run_crash(point))  # type: ignore[misc]
    elif group == "fuzz":
        yield lambda: _one(_fuzz(examples, seed))
    elif group == "abuse":
        yield run_abuse
    else:
        raise ValueError(f"unknown group {group!r}; one of {', '.join(GROUPS)}")


async def _one(row: Awaitable[checks.Row]) -> list[checks.Row]:
    return [await row]


async def _in_folder(run: Callable[[Path], Awaitable[checks.Row]]) -> checks.Row:
    with tempfile.TemporaryDirectory(prefix="mvsep-faults-") as folder:
        return await run(Path(folder))


async def _disk_case(case: str) -> checks.Row:
    with tempfile.TemporaryDirectory(prefix="mvsep-disk-") as folder:
        try:
            return await run_disk_case(case, Path(folder))
        finally:
            writable_again(Path(folder))


async def _fuzz(examples: int, seed: int | None) -> checks.Row:
    try:
        import hypothesis  # noqa: F401
    except ModuleNotFoundError:
        return checks.Row("fuzz", "fuzz: every tool's arguments", outcome=HYPOTHESIS_MISSING)
    from mvsep_mcp_testbench.faults.fuzz import run_fuzz

    return await run_fuzz(examples=examples, seed=seed)


def format_table(rows: list[checks.Row]) -> str:
    """A Markdown table: what ran, jobs, creates, result bytes, outcome, one column per property."""
    head = ["group", "fault / crash point", "jobs", "creates", "bytes", "outcome", *HEADERS.values()]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for row in rows:
        outcome = row.outcome if len(row.outcome) <= OUTCOME_CHARS else row.outcome[: OUTCOME_CHARS - 1] + "…"
        cells = [row.group, f"`{row.name}`" if row.group == "fault" else row.name, str(row.jobs), str(row.creates),
                 _bytes(row.bytes), outcome.replace("|", "/"), *(str(row.count(p)) for p in HEADERS)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def summary(rows: list[checks.Row], seconds: float) -> str:
    bad = [r for r in rows if not r.ok]
    totals = ", ".join(f"{sum(r.count(p) for r in rows)} {text}" for p, text in checks.PROPERTIES.items())
    verdict = "every property holds" if not bad else f"{len(bad)} row(s) with findings"
    return f"{len(rows)} rows in {seconds:.0f} s: {verdict}. Totals: {totals}."


def _bytes(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f} MB"
    if n >= 1_000:
        return f"{n / 1_000:.0f} kB"
    return str(n)


@contextmanager
def _quiet_logs(level: int) -> Iterator[None]:
    """The servers under test log a lot on purpose; the terminal shows only ``level`` and above meanwhile."""
    handlers = logging.getLogger().handlers
    before = [h.level for h in handlers]
    for handler in handlers:
        handler.setLevel(max(handler.level, level))
    try:
        yield
    finally:
        for handler, old in zip(handlers, before, strict=True):
            handler.setLevel(old)


def run_report(args: argparse.Namespace) -> int:
    """The command: run, print progress to stderr and the table to stdout; 1 when anything was found."""
    groups = tuple(g.strip() for g in (args.only or ",".join(GROUPS)).split(",") if g.strip())
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        sys.stderr.write(f"mvsep-mcp faults: unknown group {', '.join(unknown)}; one of {', '.join(GROUPS)}\n")
        return 2
    started = time.monotonic()

    def progress(row: checks.Row) -> None:
        mark = "ok  " if row.ok else "FAIL"
        sys.stderr.write(f"{mark} {row.seconds:5.1f} s  {row.group}: {row.name} — {row.outcome}\n")
        if not row.ok:
            sys.stderr.write(row.problems() + "\n")
        sys.stderr.flush()

    quiet = logging.ERROR if getattr(args, "log_level", None) is None else logging.NOTSET
    with _quiet_logs(quiet):
        examples = args.fuzz_examples or FUZZ_EXAMPLES
        rows = anyio.run(lambda: run_groups(groups, examples=examples, seed=args.seed, on_row=progress))
    sys.stdout.write(format_table(rows) + "\n\n" + summary(rows, time.monotonic() - started) + "\n")
    return 0 if all(r.ok for r in rows) else 1
