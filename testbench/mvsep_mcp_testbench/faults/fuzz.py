"""Every tool's arguments fuzzed with hypothesis: never a crash, never a token in a result.

Arguments are generated from each tool's ``inputSchema`` as ``tools/list`` gives it (every toolset, ``auth`` too),
then half the time made wrong: a value of the wrong type, a required argument missing, an argument nobody declared.
Strings that name files draw from a set of awkward paths made for the run (a FIFO, a symlink loop, a folder, a text
file, ``/dev/zero``, ``/proc/self/mem``, 5,000 characters, a NUL…) and strings in general from hypothesis' text plus
known troublemakers. A call must answer within ``CALL_LIMIT_S`` with either a result or a sentence: a bare "Error
executing tool X" (an unexpected exception), pydantic's own validation text, a traceback, a protocol error or the
token are findings, and so is a call without a required argument that is not refused with the sentence naming it
(``checks.unnamed_arguments``).

The schema-to-strategy mapping is written here (it covers what pydantic emits for tool arguments: types, ``anyOf``,
``enum``, bounds, arrays, objects with ``additionalProperties``); hypothesis-jsonschema would do it too but is not
a dependency of the project. Needs ``hypothesis`` (the ``test`` extra).
"""

from __future__ import annotations

import os
import tempfile
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
from anyio.from_thread import BlockingPortal

from mvsep_mcp_testbench.faults import checks, knobs
from mvsep_mcp_testbench.faults.harness import InProcessServer, in_process_server, make_songs, settings_for
from mvsep_mcp_testbench.sandbox import SANDBOX_PREMIUM_TOKEN, JobTiming, SandboxServer, SandboxState

CALL_LIMIT_S = 30.0  # a call that takes longer counts as hung
MAX_TEXT = 40  # generated strings stay short; the long ones come from the troublemakers
PATH_ARGUMENTS = frozenset({"inputs", "output_dir", "zip_path", "target", "reference"})
TROUBLEMAKERS = ("", " ", "\x00", "a\x00b", "../../../../etc/passwd", "A" * 5000, "%s%n%x", "{0}{title}", "{",
                 "\u202e\u0645", "😀" * 30, "\\\\server\\share", "C:\\Windows\\System32", "null", "[]", "{}",
                 "http://127.0.0.1:9/song.mp3", "file:///etc/passwd", "javascript:alert(1)", "-1", "1e309", "~",
                 "~root/x", "$HOME", "`id`", "; rm -rf /", "\r\n", "\t")
MODELS = ("27", "40", "115", "Demucs4 HT", "BS Roformer", "Matchering", "0", "-1", "99999")
TEMPLATES = ("{title} ({stem}).{ext}", "{song}/{stem}.{ext}", "{nope}", "{", "}", "/abs/{stem}.{ext}",
             "../{stem}.{ext}", "{stem}", "{title}" * 50, "CON.{ext}", "a/./b/../{stem}.{ext}")
NO_RATE_LIMIT = 100_000


def fixtures(work: Path) -> list[str]:
    """Awkward paths for file arguments, made under ``work``."""
    work.mkdir(parents=True, exist_ok=True)
    [song] = make_songs(work / "music", 1, prefix="Fuzz song")
    (work / "empty").mkdir(exist_ok=True)
    text = work / "notes.txt"
    text.write_text("not audio")
    fake = work / "fake.mp3"
    fake.write_bytes(b"<html>not an mp3</html>")
    archive = work / "outputs.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("song_vocals.wav", b"RIFF" + bytes(64))
    fifo = work / "a-fifo"
    if not fifo.exists() and hasattr(os, "mkfifo"):
        os.mkfifo(fifo)
    loop_a, loop_b = work / "loop-a", work / "loop-b"
    if not loop_a.is_symlink():
        loop_a.symlink_to(loop_b)
        loop_b.symlink_to(loop_a)
    dangling = work / "dangling"
    if not dangling.is_symlink():
        dangling.symlink_to(work / "nowhere")
    file_as_dir = work / "notes.txt" / "sub"
    return [str(p) for p in (song, song.parent, work / "empty", text, fake, archive, fifo, loop_a, dangling,
                             file_as_dir, work / "out-fuzz", work / "missing.flac")] + [
        "/dev/zero", "/dev/null", "/dev/stdin", "/proc/self/mem", "/proc/self/status", "/", "/etc", "/etc/passwd",
        "/" + "x" * 5000, str(work / ("y" * 300)), str(song) + "\x00.txt", "relative/song.flac", "~/song.flac"]


# --- strategies ------------------------------------------------------------------------------------------------------


def _strategies(schema: dict[str, Any], paths: list[str]) -> Any:
    """Valid-looking and malformed argument dicts for one tool's input schema."""
    from hypothesis import strategies as st

    valid = _value(schema, "", paths, schema)
    junk = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**63),
                     st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=MAX_TEXT),
                     st.sampled_from(TROUBLEMAKERS), st.lists(st.integers(), max_size=3),
                     st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))
    names = sorted(schema.get("properties", {}))

    @st.composite
    def malformed(draw: Any) -> dict[str, Any]:
        args = dict(draw(valid))
        how = draw(st.sampled_from(("wrong type", "missing", "unknown")))
        if how == "wrong type" and names:
            args[draw(st.sampled_from(names))] = draw(junk)
        elif how == "missing" and args:
            args.pop(draw(st.sampled_from(sorted(args))))
        else:
            args[draw(st.text(min_size=1, max_size=12))] = draw(junk)
        return args

    return st.one_of(valid, malformed())


def _value(schema: dict[str, Any], name: str, paths: list[str], root: dict[str, Any]) -> Any:
    from hypothesis import strategies as st

    if "$ref" in schema:
        target: Any = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            target = target.get(part, {})
        return _value(target, name, paths, root)
    if "enum" in schema:
        return st.sampled_from(list(schema["enum"]))
    if "const" in schema:
        return st.just(schema["const"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return st.one_of([_value(s, name, paths, root) for s in schema[key]])
    kind = schema.get("type")
    if kind == "string":
        return _string(schema, name, paths)
    if kind == "integer":
        return st.integers(min_value=schema.get("minimum"), max_value=schema.get("maximum"))
    if kind == "number":
        return st.floats(min_value=schema.get("minimum"), max_value=schema.get("maximum"), allow_nan=False,
                         allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "array":
        items = _value(schema.get("items", {}), name, paths, root)
        low = int(schema.get("minItems", 0))
        return st.lists(items, min_size=low, max_size=max(low, min(int(schema.get("maxItems", 3)), 3)))
    if kind == "object" or "properties" in schema:
        return _object(schema, paths, root)
    return st.one_of(st.none(), st.text(max_size=MAX_TEXT), st.integers())


def _string(schema: dict[str, Any], name: str, paths: list[str]) -> Any:
    from hypothesis import strategies as st

    low = int(schema.get("minLength", 0))
    text = st.text(min_size=low, max_size=max(low, MAX_TEXT))
    if name in PATH_ARGUMENTS:
        return st.one_of(st.sampled_from(paths), st.sampled_from(TROUBLEMAKERS), text)
    if name == "model":
        return st.one_of(st.sampled_from(MODELS), text)
    if name == "name_template":
        return st.one_of(st.sampled_from(TEMPLATES), text)
    return st.one_of(text, st.sampled_from(TROUBLEMAKERS))


def _object(schema: dict[str, Any], paths: list[str], root: dict[str, Any]) -> Any:
    from hypothesis import strategies as st

    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    fixed = {k: _value(v, k, paths, root) for k, v in properties.items() if k in required}
    optional = {k: _value(v, k, paths, root) for k, v in properties.items() if k not in required}
    base = st.fixed_dictionaries(fixed, optional=optional)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict) and not properties:
        return st.dictionaries(st.one_of(st.text(max_size=12), st.sampled_from(("Model Type", "add_opt1", "Text"))),
                               _value(extra, "", paths, root), max_size=3)
    return base


# --- the run ---------------------------------------------------------------------------------------------------------


@contextmanager
def _home(folder: Path) -> Iterator[None]:
    """``~`` means a folder of the run while fuzzing (a fuzzed ``~/x`` must not write into the real home), and
    hypothesis keeps its files there too (not in a ``.hypothesis`` folder wherever the command was started)."""
    from hypothesis.configuration import set_hypothesis_home_dir

    before = os.environ.get("HOME")
    os.environ["HOME"] = str(folder)
    set_hypothesis_home_dir(folder / ".hypothesis")
    try:
        yield
    finally:
        set_hypothesis_home_dir(None)
        if before is None:
            os.environ.pop("HOME", None)
        else:
            os.environ["HOME"] = before


async def run_fuzz(work: Path | None = None, examples: int = knobs.FAULTS_FUZZ_EXAMPLES,
                   seed: int | None = None) -> checks.Row:
    """``examples`` argument sets per tool; the same ones every run unless a ``seed`` is given."""
    if work is None:
        with tempfile.TemporaryDirectory(prefix="mvsep-fuzz-") as folder:
            return await run_fuzz(Path(folder), examples, seed)
    started = time.monotonic()
    token = SANDBOX_PREMIUM_TOKEN
    state = SandboxState(timing=JobTiming.fast(), rate_limit=NO_RATE_LIMIT)
    row = checks.Row("fuzz", "")
    try:
        with _home(work / "home"):
            paths = fixtures(work / "files")
            async with SandboxServer(state) as sandbox:
                settings = settings_for(work, sandbox.base_url, token, toolsets="all,auth")
                async with in_process_server(settings) as server, BlockingPortal() as portal:
                    tools = (await server.client.list_tools()).tools
                    failures: list[str] = []
                    await anyio.to_thread.run_sync(_fuzz_all, portal, server, tools, paths, examples, seed, failures)
                row.name = f"{len(server.results)} fuzzed calls over {len(tools)} tools"
                row.add("crashes", failures)
                row.add("crashes", _logged_crashes(server.log.getvalue()))
                row.add("leaks", checks.token_leaks(token, server.texts(), [settings.data_dir]))
                refused = sum(1 for _, r in server.results if r.is_error)
                row.outcome = f"{len(server.results) - refused} answered, {refused} refused with a sentence"
                row.creates = state.traffic.creates()
                row.jobs = row.creates
    finally:
        state.close()
    row.seconds = time.monotonic() - started
    return row


def _fuzz_all(portal: BlockingPortal, server: InProcessServer, tools: list[Any], paths: list[str], examples: int,
              seed: int | None, failures: list[str]) -> None:
    """In a worker thread: hypothesis draws arguments, the portal runs each call on the server's event loop."""
    for tool in tools:
        schema = dict(tool.input_schema)
        _fuzz_one(portal, server, tool.name, schema, _strategies(schema, paths), examples, seed, failures)


def _fuzz_one(portal: BlockingPortal, server: InProcessServer, name: str, schema: dict[str, Any], strategy: Any,
              examples: int, seed: int | None, failures: list[str]) -> None:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as seeded

    @settings(max_examples=examples, deadline=None, database=None, derandomize=seed is None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(arguments=strategy)
    def call(arguments: dict[str, Any]) -> None:
        try:
            result = portal.call(_call, server, name, arguments)
        except TimeoutError:
            failures.append(f"{name} did not answer within {CALL_LIMIT_S:g} s: {_short(arguments)}")
        except Exception as exc:  # a protocol-level error: the call never got an answer
            failures.append(f"{name} raised {type(exc).__name__}: {str(exc)[:120]} for {_short(arguments)}")
        else:
            found = [*checks.crashes([(name, result)]), *checks.unnamed_arguments(name, schema, arguments, result)]
            failures.extend(f"{finding} for {_short(arguments)}" for finding in found)

    (seeded(seed)(call) if seed is not None else call)()


async def _call(server: InProcessServer, name: str, arguments: dict[str, Any]) -> Any:
    with anyio.fail_after(CALL_LIMIT_S):
        return await server.call(name, arguments)


def _logged_crashes(log: str) -> list[str]:
    """Unexpected exceptions the server logged (a tool's, or one of the runner's background tasks)."""
    markers = ("unexpected error", "Traceback (most recent call last)")
    return [line[:160] for line in log.splitlines() if any(m in line for m in markers)]


def _short(arguments: dict[str, Any]) -> str:
    text = repr(arguments)
    return text if len(text) < 160 else text[:157] + "…"
