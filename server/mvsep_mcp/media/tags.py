"""Track tags: read them from files or from MVSep's getID3 ``tags``, write them onto stems.

This module is the public face of the tag code, which lives in small modules by concern:
``tag_model`` (``TrackTags``, ``CoverArt``), ``tag_read`` (mutagen readers, RIFF INFO), ``tag_getid3`` (MVSep's
``tags`` field) and ``tag_write`` (``write_stem_tags``).
"""

from __future__ import annotations

from mvsep_mcp.media.tag_getid3 import tags_from_getid3
from mvsep_mcp.media.tag_model import CoverArt, TrackTags, sniff_image_mime
from mvsep_mcp.media.tag_read import read_riff_info, read_tags
from mvsep_mcp.media.tag_write import (
    MODEL_KEY,
    MP4_MODEL_ATOM,
    MP4_STEM_ATOM,
    STEM_KEY,
    WRITABLE_FORMATS,
    stem_title,
    write_stem_tags,
)

__all__ = [
    "MODEL_KEY",
    "MP4_MODEL_ATOM",
    "MP4_STEM_ATOM",
    "STEM_KEY",
    "WRITABLE_FORMATS",
    "CoverArt",
    "TrackTags",
    "read_riff_info",
    "read_tags",
    "sniff_image_mime",
    "stem_title",
    "tags_from_getid3",
    "write_stem_tags",
]
