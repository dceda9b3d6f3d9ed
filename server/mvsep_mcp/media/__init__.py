"""Audio files on disk: probe, tags, naming, safe file placement and job manifests. No MCP, no HTTP.

See ``ARCHITECTURE.md`` ("mvsep_mcp.media") for the contract; each name below is documented in its module.
"""

from __future__ import annotations

from mvsep_mcp.media.errors import MediaError, OutsideOutputRoot, PathTooLong, TemplateError, UnsupportedAudio
from mvsep_mcp.media.files import (
    candidate_names,
    commit_file,
    ensure_dir,
    final_name_from_temp,
    sha256_file,
    temp_path_for,
)
from mvsep_mcp.media.manifest import (
    SCHEMA_VERSION,
    Manifest,
    ManifestInput,
    ManifestJob,
    ManifestOutput,
    host_of,
    read_manifest,
    strip_secrets,
    write_manifest,
)
from mvsep_mcp.media.naming import (
    DEFAULT_TEMPLATE,
    PLACEHOLDERS,
    NamingFields,
    render_relative_path,
    safe_destination,
    sanitize_component,
    short_hash,
    validate_template,
)
from mvsep_mcp.media.probe import SUPPORTED_FORMATS, AudioInfo, find_similar_names, probe
from mvsep_mcp.media.tags import (
    MODEL_KEY,
    STEM_KEY,
    WRITABLE_FORMATS,
    CoverArt,
    TrackTags,
    read_tags,
    stem_title,
    tags_from_getid3,
    write_stem_tags,
)

__all__ = [
    "DEFAULT_TEMPLATE",
    "MODEL_KEY",
    "PLACEHOLDERS",
    "SCHEMA_VERSION",
    "STEM_KEY",
    "SUPPORTED_FORMATS",
    "WRITABLE_FORMATS",
    "AudioInfo",
    "CoverArt",
    "Manifest",
    "ManifestInput",
    "ManifestJob",
    "ManifestOutput",
    "MediaError",
    "NamingFields",
    "OutsideOutputRoot",
    "PathTooLong",
    "TemplateError",
    "TrackTags",
    "UnsupportedAudio",
    "candidate_names",
    "commit_file",
    "ensure_dir",
    "final_name_from_temp",
    "find_similar_names",
    "host_of",
    "probe",
    "read_manifest",
    "read_tags",
    "render_relative_path",
    "safe_destination",
    "sanitize_component",
    "sha256_file",
    "short_hash",
    "stem_title",
    "strip_secrets",
    "tags_from_getid3",
    "temp_path_for",
    "validate_template",
    "write_manifest",
    "write_stem_tags",
]
