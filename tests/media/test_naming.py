"""Naming templates, OS-safe components, length limits, and the output-root gate."""

from __future__ import annotations

import os
import sys
import unicodedata
from pathlib import Path, PurePosixPath

import pytest
from mvsep_mcp import system
from mvsep_mcp.media import (
    DEFAULT_TEMPLATE,
    NamingFields,
    OutsideOutputRoot,
    TemplateError,
    render_relative_path,
    safe_destination,
    sanitize_component,
    short_hash,
    validate_template,
)
from mvsep_mcp.media.errors import PathTooLong
from mvsep_mcp.policy import MAX_NAME_CHARS, MAX_PATH_CHARS, NAME_MAX_BYTES

PLACEHOLDERS = "{title}, {artist}, {album}, {song}, {stem}, {model}, {format}, {ext}, {input}, {hash}, {date}, {track}"


def fields(**given: str | None) -> NamingFields:
    base: dict[str, str | None] = {"stem": "Vocals", "title": "Title", "artist": "Artist", "ext": "flac",
                                   "input": "input file.mp3"}
    base.update(given)
    return NamingFields(**base)  # type: ignore[arg-type]


def test_default_template() -> None:
    assert DEFAULT_TEMPLATE == "{song}/{title} ({stem}).{ext}"
    assert render_relative_path(DEFAULT_TEMPLATE, fields()) == PurePosixPath("Artist - Title/Title (Vocals).flac")


def test_song_without_artist_and_title_from_input() -> None:
    path = render_relative_path(DEFAULT_TEMPLATE, fields(artist=None, title=None))
    assert path == PurePosixPath("input file/input file (Vocals).flac")


def test_unknown_artist_only_where_asked() -> None:
    assert render_relative_path("{artist}/{title} - {stem}.{ext}", fields(artist=None)) == PurePosixPath(
        "Unknown Artist/Title - Vocals.flac")


def test_all_placeholders() -> None:
    template = "{artist}/{album}/{track} {title} [{model} {hash} {date}] {input} {song} {stem}.{format}.{ext}"
    given = fields(album="LP", model="BS Roformer", hash="20240119124024-413c481b80-10-luke.mp3", date="2024",
                   track="3/12", format="flac")
    assert render_relative_path(template, given) == PurePosixPath(
        "Artist/LP/03 Title [BS Roformer 413c481b80 2024] input file Artist - Title Vocals.flac.flac")


def test_empty_placeholders_leave_no_dangling_separators() -> None:
    path = render_relative_path("{track} - {title} [{hash}] ({stem}) - {date}.{ext}", fields())
    assert path == PurePosixPath("Title (Vocals).flac")


def test_ext_appended_when_template_lacks_it() -> None:
    assert render_relative_path("{title}-{stem}", fields(ext=None, format="mp3")) == PurePosixPath("Title-Vocals.mp3")


@pytest.mark.parametrize(("template", "message"), [
    ("{title}/{bogus} {stem}.{ext}",
     f"The naming template uses unknown placeholder(s) {{bogus}}; the placeholders are {PLACEHOLDERS}."),
    ("{song}/{title}.{ext}",
     "The naming template must contain {stem}, or every stem of a song would get the same name; "
     f"e.g. '{DEFAULT_TEMPLATE}' (placeholders: {PLACEHOLDERS})."),
    ("", f"The naming template is empty; use e.g. '{DEFAULT_TEMPLATE}' (placeholders: {PLACEHOLDERS})."),
    ("{stem}}.{ext}",
     f"The naming template has an unmatched brace; write placeholders as {{name}}, one of {PLACEHOLDERS}."),
    ("/abs/{stem}.{ext}", "The naming template must be relative to the output folder; remove the leading folder or "
                          f"drive, e.g. '{DEFAULT_TEMPLATE}'."),
    ("C:{stem}.{ext}", "The naming template must be relative to the output folder; remove the leading folder or "
                       f"drive, e.g. '{DEFAULT_TEMPLATE}'."),
    ("../{stem}.{ext}", "The naming template must not contain '..'; it names files inside the output folder, "
                        f"e.g. '{DEFAULT_TEMPLATE}'."),
])
def test_validate_template_errors(template: str, message: str) -> None:
    with pytest.raises(TemplateError) as caught:
        validate_template(template)
    assert str(caught.value) == message


@pytest.mark.parametrize(("name", "expected"), [
    ("CON", "CON_"), ("con.flac", "con_.flac"), ("NUL.tar.gz", "NUL_.tar.gz"), ("COM1", "COM1_"),
    ("LPT9.mp3", "LPT9_.mp3"), ("aux .txt", "aux_.txt"), ("CONSOLE.flac", "CONSOLE.flac"), ("COM0", "COM0"),
    ('a<b>c:d"e/f\\g|h?i*j', "a_b_c_d_e_f_g_h_i_j"), ("tab\there\nnew\x00line\x7f", "tab here new line"),
    ("trailing dots...", "trailing dots"), ("trailing spaces   ", "trailing spaces"), (".hidden", "hidden"),
    ("..", "_"), (".", "_"), ("", "_"), ("   ", "_"), ("...", "_"), ("evil\u202egnp.exe", "evilgnp.exe"),
])
def test_sanitize_component(name: str, expected: str) -> None:
    assert sanitize_component(name) == expected


def test_sanitize_component_length_keeps_suffix() -> None:
    long = sanitize_component("x" * 500 + ".flac")
    assert len(long) == MAX_NAME_CHARS and long.endswith("x.flac")
    wide = sanitize_component("\u6f22" * 200 + ".mp3")  # 3 bytes per character
    assert len(wide.encode("utf-8")) <= NAME_MAX_BYTES and wide.endswith(".mp3")


def test_reserved_names_and_dots_in_rendered_paths() -> None:
    path = render_relative_path(DEFAULT_TEMPLATE, fields(artist=None, title="CON"))
    assert path == PurePosixPath("CON_/CON (Vocals).flac")
    path = render_relative_path(DEFAULT_TEMPLATE, fields(artist="..", title=".."))
    assert ".." not in path.parts and "." not in path.parts
    assert path == PurePosixPath("_ - _/_ (Vocals).flac")
    path = render_relative_path("{title}/{stem}.{ext}", fields(title="..."))
    assert path == PurePosixPath("_/Vocals.flac")


def test_values_cannot_add_folders() -> None:
    path = render_relative_path(DEFAULT_TEMPLATE, fields(artist="AC/DC", title="../../etc/passwd"))
    assert path == PurePosixPath("AC_DC - .._.._etc_passwd/_.._etc_passwd (Vocals).flac")
    assert len(path.parts) == 2


def test_unicode_is_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "Beyoncé – Café")
    path = render_relative_path(DEFAULT_TEMPLATE, fields(artist=None, title=decomposed))
    assert str(path) == unicodedata.normalize("NFC", "Beyoncé – Café/Beyoncé – Café (Vocals).flac")
    assert render_relative_path("{title} {stem}.{ext}", fields(title="夜に駆ける 🎵")) == PurePosixPath(
        "夜に駆ける 🎵 Vocals.flac")


@pytest.mark.parametrize("root_len", [0, 40, 150])
def test_very_long_title_fits_and_keeps_stem_and_ext(root_len: int) -> None:
    path = render_relative_path(DEFAULT_TEMPLATE, fields(title="Very Long Title " * 40, artist="Artist " * 30),
                                root_len=root_len)
    assert root_len + 1 + len(str(path)) <= MAX_PATH_CHARS
    assert all(len(part) <= MAX_NAME_CHARS for part in path.parts)
    assert path.name.endswith(" (Vocals).flac")
    assert path.name.startswith("Very Long")
    assert not any(part.endswith((" ", ".")) for part in path.parts)


def test_long_unicode_title_respects_byte_limit() -> None:
    path = render_relative_path("{title} ({stem}).{ext}", fields(title="\U0001f3b5" * 300))
    assert len(path.name.encode("utf-8")) <= NAME_MAX_BYTES
    assert len(path.name.encode("utf-16-le")) // 2 <= MAX_NAME_CHARS
    assert path.name.endswith(" (Vocals).flac")


def test_root_too_long_raises() -> None:
    with pytest.raises(PathTooLong, match="choose a shorter output folder"):
        render_relative_path(DEFAULT_TEMPLATE, fields(), root_len=MAX_PATH_CHARS)


def test_short_hash() -> None:
    assert short_hash("20240119124024-413c481b80-10-luke-s-theme.mp3") == "413c481b80"
    assert short_hash("abc-def/ghi") == "abcdefghi"
    assert short_hash(None) == ""


# --- safe_destination ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("relative", [
    "/etc/passwd", "\\\\server\\share\\x.flac", "\\x.flac", "C:\\Windows\\x.flac", "c:x.flac", "../x.flac",
    "a/../../x.flac", "a\\..\\..\\x.flac", "a/../x.flac", "..", ".", "", "a/\x00b.flac", "a/ .. /x",
])
def test_safe_destination_refuses_escapes(tmp_path: Path, relative: str) -> None:
    with pytest.raises(OutsideOutputRoot) as caught:
        safe_destination(tmp_path / "out", relative)
    assert str(caught.value).startswith(f"Refusing to write {relative!r}: it would land outside the output folder ")


def test_safe_destination_accepts_inside(tmp_path: Path) -> None:
    root = tmp_path / "out"
    root.mkdir()
    assert safe_destination(root, "Artist - Title/Title (Vocals).flac") == (
        root.resolve() / "Artist - Title" / "Title (Vocals).flac")
    assert safe_destination(root, PurePosixPath("a/./b.flac")) == root.resolve() / "a" / "b.flac"
    assert safe_destination(root, "not/yet/created.flac").is_relative_to(root.resolve())


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_safe_destination_refuses_symlinked_folder_out_of_root(tmp_path: Path) -> None:
    root, outside = tmp_path / "out", tmp_path / "elsewhere"
    root.mkdir()
    outside.mkdir()
    (root / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(OutsideOutputRoot):
        safe_destination(root, "link/x.flac")
    (root / "file-link.flac").symlink_to(outside / "target.flac")
    with pytest.raises(OutsideOutputRoot):
        safe_destination(root, "file-link.flac")
    (root / "inner").mkdir()
    (root / "ok-link").symlink_to(root / "inner", target_is_directory=True)
    assert safe_destination(root, "ok-link/x.flac") == root.resolve() / "inner" / "x.flac"


def test_safe_destination_through_symlinked_root(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "alias").symlink_to(real, target_is_directory=True)
    assert safe_destination(tmp_path / "alias", "x.flac") == real.resolve() / "x.flac"


@pytest.mark.parametrize("simulated", ["windows", "macos", "linux"])
def test_a_colon_in_a_name_is_refused_on_windows(tmp_path: Path, simulated: system.System) -> None:
    """On Windows ``name:stream`` writes an NTFS alternate data stream: refused. Elsewhere ``:`` is a character."""
    root = tmp_path / "out"
    root.mkdir()
    with system.simulate(simulated):
        if simulated == "windows":
            with pytest.raises(OutsideOutputRoot):
                safe_destination(root, "Song/Vocals.flac:hidden")
        elif sys.platform != "win32":  # the real Windows cannot even resolve such a name
            assert safe_destination(root, "Song/Vocals: live.flac") == root.resolve() / "Song" / "Vocals: live.flac"
