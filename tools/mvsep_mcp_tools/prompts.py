"""Prompts for the common asks: karaoke, full stems for remixing, clean dialogue."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from pydantic import Field


def register(server: MCPServer[Any]) -> None:
    @server.prompt(name="karaoke", title="Karaoke track")
    def karaoke(
        path: Annotated[str, Field(description="Absolute path of the song")],
        output_format: Annotated[str, Field(description="mp3, wav, flac, m4a, wav32 or flac24")] = "flac",
    ) -> str:
        """Remove the lead vocal from a song, keeping backing vocals if the model can."""
        return (
            f"Make a karaoke version of {path}. Use search_models with stem='vocals' sorted by rating to pick a strong "
            "vocal/instrumental model (prefer a karaoke model that keeps backing vocals if one is rated well), "
            f"show me the estimate with separate_audio dry_run=true, then separate it as {output_format} and call "
            "wait_for_jobs until it completes. Tell me where the instrumental file is."
        )

    @server.prompt(name="remix_stems", title="Full stems for remixing")
    def remix_stems(
        paths: Annotated[str, Field(description="Absolute paths of the songs (or a folder), comma-separated")],
        output_format: Annotated[str, Field(description="mp3, wav, flac, m4a, wav32 or flac24")] = "wav",
    ) -> str:
        """Split songs into vocals, drums, bass and the rest for a DAW."""
        return (
            f"Split these into stems for remixing: {paths}. Use search_models with stem='drums' to find a multi-stem "
            "model (vocals, drums, bass, other) with a good rating that my account may use, show the cost with "
            f"dry_run=true first, then separate all of them as {output_format} in one separate_audio call and keep "
            "calling wait_for_jobs until every job is completed. List the stem files per song."
        )

    @server.prompt(name="clean_dialogue", title="Clean dialogue")
    def clean_dialogue(
        path: Annotated[str, Field(description="Absolute path of the recording or video soundtrack")],
    ) -> str:
        """Isolate speech from music and effects (podcasts, film audio, interviews)."""
        return (
            f"Isolate the dialogue in {path}. Use search_models with text='speech' to find a speech/music/effects "
            "model (DnR-style) rated well, show the estimate with dry_run=true, separate it as wav, wait_for_jobs "
            "until completed, and tell me where the speech stem is."
        )
