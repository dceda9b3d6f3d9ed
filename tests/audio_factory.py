"""Real tagged test audio (mp3, flac, m4a, ogg, wav with cover art): see ``server/sandbox/samples.py``."""

from mvsep_mcp_testbench.sandbox.samples import FORMATS, Song, make_audio, png_cover, signal, tag_audio, write_audio

__all__ = ["FORMATS", "Song", "make_audio", "png_cover", "signal", "tag_audio", "write_audio"]
