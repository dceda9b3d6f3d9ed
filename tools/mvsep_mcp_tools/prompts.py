"""Prompts for the common asks: karaoke, full stems for remixing, clean dialogue.

Each prompt's text is a plain function of its arguments (``TEXTS``: the manifest renders them with placeholders);
the registered prompt checks the arguments first. A model is given by name or render_id and named in the text as
the catalogue knows it; a wrong one, or a format that does not exist, is refused with a sentence (-32602), and
``completion/complete`` suggests both (``completions``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mvsep_mcp.errors import UserError
from mvsep_mcp.mvsep.formats import FORMAT_NAMES
from pydantic import Field

from mvsep_mcp_tools._caller import session_of
from mvsep_mcp_tools._registration import prompt

PATH = Field(description="Absolute path of the song")
FORMAT = Field(description=f"{', '.join(FORMAT_NAMES[:-1])} or {FORMAT_NAMES[-1]}")
MODEL = Field(description="A model's render_id or name (leave it out to let the assistant choose)")
FORMATS = {"output_format": FORMAT_NAMES}  # the prompt arguments with a fixed set of values


def _choose(model: str, how: str) -> str:
    """The text's model: the one given, or how the assistant picks one."""
    return f"Use the model {model}" if model else how


def karaoke_text(path: str, output_format: str = "flac", model: str = "") -> str:
    choose = _choose(model, "Use search_models with stem='vocals' sorted by rating to pick a strong vocal/instrumental "
                            "model (prefer a karaoke model that keeps backing vocals if one is rated well)")
    return (
        f"Make a karaoke version of {path}. {choose}, show me the estimate with separate_audio dry_run=true, then "
        f"separate it as {output_format} and call wait_for_jobs until it completes. Tell me where the instrumental "
        "file is."
    )


def remix_stems_text(paths: str, output_format: str = "wav", model: str = "") -> str:
    choose = _choose(model, "Use search_models with stem='drums' to find a multi-stem model (vocals, drums, bass, "
                            "other) with a good rating that my account may use")
    return (
        f"Split these into stems for remixing: {paths}. {choose}, show the cost with dry_run=true first, then "
        f"separate all of them as {output_format} in one separate_audio call and keep calling wait_for_jobs until "
        "every job is completed. List the stem files per song."
    )


def clean_dialogue_text(path: str, model: str = "") -> str:
    choose = _choose(model, "Use search_models with text='speech' to find a speech/music/effects model (DnR-style) "
                            "rated well")
    return (
        f"Isolate the dialogue in {path}. {choose}, show the estimate with dry_run=true, separate it as wav, "
        "wait_for_jobs until completed, and tell me where the speech stem is."
    )


TEXTS: dict[str, Callable[..., str]] = {
    "karaoke": karaoke_text,
    "remix_stems": remix_stems_text,
    "clean_dialogue": clean_dialogue_text,
}


async def model_named(ctx: Context[Any, Any], model: str) -> str:
    """The model as the text names it: ``Name (render_id N)`` from the catalogue (an unknown one is refused with
    the closest names), or as given when the catalogue cannot be read now (separate_audio checks it then)."""
    if not model.strip():
        return ""
    try:
        catalog = await session_of(ctx).catalog()
    except UserError:
        return f"'{model.strip()}'"
    algorithm = catalog.find(model)  # UnknownModel: the prompt is refused with the closest names
    return f"{algorithm.name} (render_id {algorithm.render_id}: pass it as model)"


def register(server: MCPServer[Any]) -> None:
    @prompt(server, name="karaoke", title="Karaoke track", choices=FORMATS)
    async def karaoke(
        ctx: Context[Any, Any],
        path: Annotated[str, PATH],
        output_format: Annotated[str, FORMAT] = "flac",
        model: Annotated[str, MODEL] = "",
    ) -> str:
        """Remove the lead vocal from a song, keeping backing vocals if the model can."""
        return karaoke_text(path, output_format or "flac", await model_named(ctx, model))

    @prompt(server, name="remix_stems", title="Full stems for remixing", choices=FORMATS)
    async def remix_stems(
        ctx: Context[Any, Any],
        paths: Annotated[str, Field(description="Absolute paths of the songs (or a folder), comma-separated")],
        output_format: Annotated[str, FORMAT] = "wav",
        model: Annotated[str, MODEL] = "",
    ) -> str:
        """Split songs into vocals, drums, bass and the rest for a DAW."""
        return remix_stems_text(paths, output_format or "wav", await model_named(ctx, model))

    @prompt(server, name="clean_dialogue", title="Clean dialogue", choices=FORMATS)
    async def clean_dialogue(
        ctx: Context[Any, Any],
        path: Annotated[str, Field(description="Absolute path of the recording or video soundtrack")],
        model: Annotated[str, MODEL] = "",
    ) -> str:
        """Isolate speech from music and effects (podcasts, film audio, interviews)."""
        return clean_dialogue_text(path, await model_named(ctx, model))
