"""Tests for the sandbox's real audio: decoding, stems in all six output formats, getID3-shaped tags."""

from __future__ import annotations

import os
from pathlib import Path

import mutagen
import numpy as np
import pytest
import soundfile as sf
from mutagen.flac import FLAC
from mutagen.mp3 import MP3, BitrateMode
from mutagen.mp4 import MP4
from mutagen.wave import WAVE
from mvsep_mcp_testbench.sandbox.audio import (
    OUTPUT_FORMATS,
    OutputFormat,
    RenderedStem,
    UndecodableAudio,
    decode,
    probe_duration,
    read_getid3_tags,
    render_stems,
)
from mvsep_mcp_testbench.sandbox.audio_split import assign_bands, residual_index

from tests.audio_factory import FORMATS, Song, make_audio, write_audio

SECONDS = 1.5
FOUR = [("vocals", "Vocals"), ("bass", "Bass"), ("drums", "Drums"), ("other", "Other")]
LOSSLESS_INPUTS = ("wav", "flac")
SUBTYPES = {1: "PCM_16", 2: "PCM_16", 4: "FLOAT", 5: "PCM_24"}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("inputs")
    return {fmt: make_audio(folder, fmt, seconds=SECONDS) for fmt in FORMATS}


def lowpass(audio: np.ndarray, rate: int, cutoff: float = 15000.0) -> np.ndarray:
    spectrum = np.fft.rfft(audio, axis=0)
    spectrum[np.fft.rfftfreq(audio.shape[0], 1.0 / rate) > cutoff] = 0
    return np.fft.irfft(spectrum, n=audio.shape[0], axis=0)


def snr_db(reference: np.ndarray, estimate: np.ndarray) -> float:
    error = float(np.mean((reference - estimate) ** 2))
    return 10 * np.log10(float(np.mean(reference**2)) / max(error, 1e-30))


def decoded_sum(rendered: list[RenderedStem]) -> np.ndarray:
    return sum((decode(stem.path)[0].astype(np.float64) for stem in rendered), np.zeros(1))


# --------------------------------------------------------------------------------------------- formats table


def test_output_formats_table() -> None:
    assert sorted(OUTPUT_FORMATS) == [0, 1, 2, 3, 4, 5]
    assert OUTPUT_FORMATS[0] == OutputFormat(0, "mp3 (320 kbps)", "mp3")
    assert [OUTPUT_FORMATS[c].ext for c in range(6)] == ["mp3", "wav", "flac", "m4a", "wav", "flac"]
    assert all(fmt.code == code for code, fmt in OUTPUT_FORMATS.items())


# ----------------------------------------------------------------------------------------- decode and probe


@pytest.mark.parametrize("fmt", FORMATS)
def test_decode_and_probe_every_input_format(inputs: dict[str, Path], fmt: str) -> None:
    audio, rate = decode(inputs[fmt])
    assert rate == 44100
    assert audio.dtype == np.float32
    assert audio.shape == (int(SECONDS * 44100), 2)
    assert float(np.abs(audio).max()) > 0.1
    assert probe_duration(inputs[fmt]) == pytest.approx(SECONDS, abs=1e-3)


@pytest.mark.parametrize("content", [b"", os.urandom(4096), b"hello, this is not audio\n" * 100,
                                     b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 50])
@pytest.mark.parametrize("suffix", [".mp3", ".wav", ".m4a", ".bin"])
def test_undecodable_inputs(tmp_path: Path, content: bytes, suffix: str) -> None:
    path = tmp_path / f"junk{suffix}"
    path.write_bytes(content)
    with pytest.raises(UndecodableAudio):
        probe_duration(path)
    with pytest.raises(UndecodableAudio):
        decode(path)
    with pytest.raises(UndecodableAudio):
        render_stems(path, FOUR, 1, tmp_path / "out", "junk")
    assert not list((tmp_path / "out").glob("*"))


def test_missing_file_is_undecodable(tmp_path: Path) -> None:
    with pytest.raises(UndecodableAudio):
        probe_duration(tmp_path / "nope.wav")


def test_garbage_tags_are_undecodable(tmp_path: Path) -> None:
    path = tmp_path / "junk.bin"
    path.write_bytes(b"\x01\x02not audio at all" * 64)
    with pytest.raises(UndecodableAudio):
        read_getid3_tags(path)


# ---------------------------------------------------------------------------- every input x every output


@pytest.mark.parametrize("code", sorted(OUTPUT_FORMATS))
@pytest.mark.parametrize("fmt", FORMATS)
def test_render_all_formats(inputs: dict[str, Path], tmp_path: Path, fmt: str, code: int) -> None:
    source = inputs[fmt]
    original, rate = decode(source)
    rendered = render_stems(source, FOUR, code, tmp_path, "song")
    ext = OUTPUT_FORMATS[code].ext

    assert [(r.key, r.label) for r in rendered] == FOUR
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"song_{k}.{ext}" for k, _ in FOUR)
    for stem in rendered:
        assert stem.path == tmp_path / f"song_{stem.key}.{ext}"
        assert stem.size == stem.path.stat().st_size > 0
        audio, stem_rate = decode(stem.path)
        assert stem_rate == rate
        assert audio.shape == original.shape  # exact, lossy included (LAME gapless header; MP4 edit list)
        if code in SUBTYPES:
            info = sf.info(str(stem.path))
            assert info.subtype == SUBTYPES[code]
            assert (info.samplerate, info.channels, info.frames) == (rate, 2, original.shape[0])
    _check_container(rendered[2].path, code)  # drums: full-band noise, so AAC reaches its target bitrate

    total = decoded_sum(rendered)
    error = np.abs(total - original)
    lossless_in = fmt in LOSSLESS_INPUTS
    if code in (1, 2):  # 16-bit: exact on a 16-bit input; within input rounding otherwise
        assert error.max() <= (1e-9 if lossless_in else 1.01 / 32768)
    elif code == 5:
        assert error.max() <= (1e-9 if lossless_in else 1.01 / 2**23)
    elif code == 4:
        assert error.max() <= 1e-6
    else:  # lossy: within codec error; encoders low-pass near 16-20 kHz, so compare below 15 kHz
        assert snr_db(lowpass(original, rate), lowpass(total, rate)) > 25.0


def _check_container(path: Path, code: int) -> None:
    if code == 0:
        mp3 = MP3(path)
        assert mp3.info.bitrate_mode == BitrateMode.CBR
        assert abs(mp3.info.bitrate - 320_000) <= 1000
        assert mp3.info.sample_rate == 44100
    elif code == 3:
        mp4 = MP4(path)
        assert mp4.info.codec.startswith("mp4a")
        assert 200_000 <= mp4.info.bitrate <= 300_000
        assert mp4.info.channels == 2
    elif code in (1, 4):
        wave = WAVE(path)
        assert wave.info.bits_per_sample == (16 if code == 1 else 32)
    else:
        flac = FLAC(path)
        assert flac.info.bits_per_sample == (16 if code == 2 else 24)


# --------------------------------------------------------------------------------------- the split itself


def _band_energy(audio: np.ndarray, rate: int, lo: float, hi: float) -> float:
    spectrum = np.abs(np.fft.rfft(audio, axis=0)) ** 2
    freqs = np.fft.rfftfreq(audio.shape[0], 1.0 / rate)
    return float(spectrum[(freqs >= lo) & (freqs < hi)].sum())


def test_stems_are_meaningful(inputs: dict[str, Path], tmp_path: Path) -> None:
    rendered = render_stems(inputs["wav"], FOUR, 4, tmp_path, "song")
    stems = {r.key: decode(r.path)[0].astype(np.float64) for r in rendered}
    rate = 44100
    # bass: the 55 Hz tone; vocals: the 440 Hz tone; drums: the high band of the noise
    assert _band_energy(stems["bass"], rate, 40, 70) > 0.9 * sum(_band_energy(s, rate, 40, 70) for s in stems.values())
    assert _band_energy(stems["vocals"], rate, 400, 480) > 0.5 * sum(
        _band_energy(s, rate, 400, 480) for s in stems.values())
    assert _band_energy(stems["drums"], rate, 6000, 20000) > 0.9 * sum(
        _band_energy(s, rate, 6000, 20000) for s in stems.values())
    assert _band_energy(stems["vocals"], rate, 0, 100) < 1e-3 * _band_energy(stems["bass"], rate, 0, 100)
    np.testing.assert_array_equal(stems["vocals"][:, 0], stems["vocals"][:, 1])  # the centre channel


def test_mono_input(tmp_path: Path) -> None:
    from tests.audio_factory import signal

    source = tmp_path / "mono.flac"
    write_audio(source, signal(1.0, 44100, channels=1), 44100)
    for code in (0, 2, 3, 4):
        rendered = render_stems(source, FOUR, code, tmp_path / str(code), "mono")
        for stem in rendered:
            audio, rate = decode(stem.path)
            assert audio.shape == (44100, 1) and rate == 44100
    rendered = render_stems(source, FOUR, 2, tmp_path / "exact", "mono")
    np.testing.assert_array_equal(decoded_sum(rendered), decode(source)[0])


@pytest.mark.parametrize(("rate", "frames"), [(22050, 22050 * 2 + 17), (48000, 12345), (8000, 1), (96000, 96001)])
def test_odd_lengths_and_rates(tmp_path: Path, rate: int, frames: int) -> None:
    rng = np.random.default_rng(1)
    audio = np.clip(0.15 * rng.standard_normal((frames, 2)), -0.6, 0.6).astype(np.float32)  # stems stay < 1
    source = tmp_path / "odd.wav"
    sf.write(source, audio, rate, subtype="FLOAT")
    for code in (4, 5):
        rendered = render_stems(source, FOUR, code, tmp_path / str(code), "odd")
        for stem in rendered:
            info = sf.info(str(stem.path))
            assert (info.samplerate, info.channels, info.frames) == (rate, 2, frames)
        assert np.abs(decoded_sum(rendered) - audio).max() <= (1e-6 if code == 4 else 2.0 / 2**23)


def test_mp3_output_of_a_rate_mp3_lacks_is_resampled(tmp_path: Path) -> None:
    source = tmp_path / "hi.wav"
    sf.write(source, np.zeros((96000, 2), dtype=np.float32), 96000, subtype="PCM_24")
    rendered = render_stems(source, FOUR[:2], 0, tmp_path / "out", "hi")
    assert MP3(rendered[0].path).info.sample_rate == 48000
    assert probe_duration(rendered[0].path) == pytest.approx(1.0, abs=0.06)


def test_single_stem_is_the_input(inputs: dict[str, Path], tmp_path: Path) -> None:
    rendered = render_stems(inputs["flac"], [("vocals", "Vocals")], 2, tmp_path, "one")
    assert [r.path.name for r in rendered] == ["one_vocals.flac"]
    np.testing.assert_array_equal(decode(rendered[0].path)[0], decode(inputs["flac"])[0])


def test_six_stems(inputs: dict[str, Path], tmp_path: Path) -> None:
    six = [("vocals", "Vocals"), ("drums", "Drums"), ("bass", "Bass"), ("piano", "Piano"), ("guitar", "Guitar"),
           ("other", "Other")]
    rendered = render_stems(inputs["wav"], six, 1, tmp_path, "six")
    assert [r.key for r in rendered] == [k for k, _ in six]
    np.testing.assert_array_equal(decoded_sum(rendered), decode(inputs["wav"])[0])


def test_many_stems_with_unknown_keys(inputs: dict[str, Path], tmp_path: Path) -> None:
    keys = [("instrum", "Instrumental")] + [(f"thing{i}", f"Thing {i}") for i in range(11)]
    rendered = render_stems(inputs["flac"], keys, 4, tmp_path, "many")
    assert len(rendered) == 12
    stems = [decode(r.path)[0] for r in rendered]
    energies = [float(np.mean(s.astype(np.float64) ** 2)) for s in stems]
    assert sum(e > 1e-9 for e in energies[1:]) >= 7  # unknown keys get bands of their own
    assert np.abs(decoded_sum(rendered) - decode(inputs["flac"])[0]).max() <= 1e-6


def test_residual_choice_and_bands() -> None:
    assert residual_index(["instrum", "vocals"]) == 0
    assert residual_index(["vocals", "Other", "bass"]) == 1
    assert residual_index(["vocals", "bass"]) == 1
    unknown = assign_bands([f"x{i}" for i in range(8)])
    assert len(set(unknown)) == 8


def test_full_scale_input_clips_integer_outputs(tmp_path: Path) -> None:
    t = np.arange(44100) / 44100
    square = np.sign(np.sin(2 * np.pi * 100 * t))[:, None].repeat(2, axis=1).astype(np.float32)
    source = tmp_path / "loud.wav"
    sf.write(source, square, 44100, subtype="FLOAT")
    for code in (0, 1, 3, 5):
        for stem in render_stems(source, FOUR, code, tmp_path / str(code), "loud"):
            audio, _ = decode(stem.path)
            assert np.isfinite(audio).all()
            # integer PCM is clipped at full scale; lossy decoders may ring a little past a clipped input
            assert np.abs(audio).max() <= (1.0 if code in (1, 5) else 1.2)


def test_bad_requests(inputs: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        render_stems(inputs["wav"], FOUR, 9, tmp_path, "x")
    with pytest.raises(ValueError):
        render_stems(inputs["wav"], [], 1, tmp_path, "x")
    with pytest.raises(ValueError):
        render_stems(inputs["wav"], [("bass", "Bass"), ("bass", "Bass")], 1, tmp_path, "x")
    with pytest.raises(ValueError):
        render_stems(inputs["wav"], FOUR, 1, tmp_path, "../x")
    assert not list(tmp_path.glob("*"))


# ------------------------------------------------------------------------------------------ getID3 tags

EXPECTED_AUDIO = {
    "mp3": {"dataformat": "mp3", "lossless": False, "bitrate_mode": "vbr"},
    "flac": {"dataformat": "flac", "lossless": True, "bits_per_sample": 16},
    "m4a": {"dataformat": "mp4", "lossless": False},
    "ogg": {"dataformat": "vorbis", "lossless": False},
    "wav": {"dataformat": "wav", "lossless": True, "bits_per_sample": 16, "bitrate": 1411200},
}
EXPECTED_TAGS = {
    "mp3": {"id3v2": {"title": ["Test Song"], "artist": ["Test Artist"], "album": ["Test Album"],
                      "year": ["2024"], "genre": ["Electronic"], "track_number": ["3"], "band": ["The Band"]}},
    "wav": {"id3v2": {"title": ["Test Song"], "artist": ["Test Artist"], "album": ["Test Album"],
                      "year": ["2024"], "genre": ["Electronic"], "track_number": ["3"], "band": ["The Band"]}},
    "flac": {"vorbiscomment": {"title": ["Test Song"], "artist": ["Test Artist"], "album": ["Test Album"],
                               "albumartist": ["The Band"], "date": ["2024"], "genre": ["Electronic"],
                               "tracknumber": ["3"]}},
    "ogg": {"vorbiscomment": {"title": ["Test Song"], "artist": ["Test Artist"], "album": ["Test Album"],
                              "albumartist": ["The Band"], "date": ["2024"], "genre": ["Electronic"],
                              "tracknumber": ["3"]}},
    "m4a": {"quicktime": {"title": ["Test Song"], "artist": ["Test Artist"], "album": ["Test Album"],
                          "album_artist": ["The Band"], "creation_date": ["2024"], "genre": ["Electronic"],
                          "track_number": ["3"]}},
}


def _all_values_are_string_lists(tags: dict[str, dict[str, list[str]]]) -> bool:
    return all(isinstance(values, list) and values and all(isinstance(v, str) for v in values)
               for family in tags.values() for values in family.values())


@pytest.mark.parametrize("fmt", FORMATS)
def test_getid3_shape(tmp_path: Path, fmt: str) -> None:
    path = make_audio(tmp_path, fmt, seconds=1.0, song=Song(albumartist="The Band"))
    result = read_getid3_tags(path)
    assert set(result) == {"audio", "tags"}
    audio = result["audio"]
    assert audio["channels"] == 2 and audio["sample_rate"] == 44100 and audio["channelmode"] in ("stereo",
                                                                                                   "joint stereo")
    assert isinstance(audio["bitrate"], int) and audio["bitrate"] > 0
    for key, value in EXPECTED_AUDIO[fmt].items():
        assert audio[key] == value, key
    assert audio["streams"][0]["dataformat"] == audio["dataformat"]
    tags = result["tags"]
    assert _all_values_are_string_lists(tags)
    for family, expected in EXPECTED_TAGS[fmt].items():
        for key, values in expected.items():
            assert tags[family][key] == values, (family, key)
    flat = repr(result)
    assert "PNG" not in flat and "picture" not in flat and "metadata_block_picture" not in flat


@pytest.mark.parametrize("fmt", FORMATS)
def test_getid3_untagged(tmp_path: Path, fmt: str) -> None:
    path = make_audio(tmp_path, fmt, seconds=1.0, tagged=False)
    result = read_getid3_tags(path)
    assert result["audio"]["channels"] == 2
    tags = result["tags"]
    if fmt == "ogg":  # libsndfile writes its own "encoder" comment
        assert set(tags) <= {"vorbiscomment"} and "title" not in tags.get("vorbiscomment", {})
    elif fmt == "m4a":  # FFmpeg writes its encoding tool
        assert set(tags) <= {"quicktime"} and "title" not in tags.get("quicktime", {})
    else:
        assert tags == {}


def test_getid3_of_rendered_outputs(inputs: dict[str, Path], tmp_path: Path) -> None:
    rendered = {code: render_stems(inputs["flac"], FOUR[:2], code, tmp_path / str(code), "s")[0].path
                for code in OUTPUT_FORMATS}
    mp3 = read_getid3_tags(rendered[0])["audio"]
    assert (mp3["dataformat"], mp3["bitrate"], mp3["bitrate_mode"], mp3["encoder_options"]) == (
        "mp3", 320000, "cbr", "CBR320")
    assert mp3["compression_ratio"] == pytest.approx(320000 / (2 * 44100 * 16))
    assert read_getid3_tags(rendered[4])["audio"]["codec"] == "IEEE Float"
    assert read_getid3_tags(rendered[4])["audio"]["bits_per_sample"] == 32
    assert read_getid3_tags(rendered[5])["audio"]["bits_per_sample"] == 24
    assert read_getid3_tags(rendered[3])["audio"]["dataformat"] == "mp4"


def test_id3v1_and_riff_info(tmp_path: Path) -> None:
    path = make_audio(tmp_path, "mp3", seconds=1.0)
    v1 = (b"TAG" + b"Old Title".ljust(30, b"\x00") + b"Old Artist".ljust(30, b"\x00") + b"Old Album".ljust(30, b"\x00")
          + b"1999" + b"a comment".ljust(28, b"\x00") + b"\x00\x07" + bytes([17]))
    with path.open("ab") as handle:
        handle.write(v1)
    tags = read_getid3_tags(path)["tags"]
    assert list(tags) == ["id3v1", "id3v2"]
    assert tags["id3v1"] == {"title": ["Old Title"], "artist": ["Old Artist"], "album": ["Old Album"],
                             "year": ["1999"], "comment": ["a comment"], "track_number": ["7"], "genre": ["Rock"]}

    wav = tmp_path / "info.wav"
    sf.write(wav, np.zeros((4410, 2), dtype=np.float32), 44100, subtype="PCM_16")
    with sf.SoundFile(str(wav), "r+") as handle:
        handle.title = "Riff Title"
        handle.artist = "Riff Artist"
    riff = read_getid3_tags(wav)["tags"]["riff"]
    assert riff["title"] == ["Riff Title"] and riff["artist"] == ["Riff Artist"]
    assert mutagen.File(str(wav)) is not None


@pytest.mark.parametrize(("name", "container", "codec"),
                         [("clip.webm", "webm", "libopus"), ("clip.aac", "adts", "aac")])
def test_pyav_only_inputs(tmp_path: Path, name: str, container: str, codec: str) -> None:
    import av

    from tests.audio_factory import signal

    audio = signal(1.0, 48000)
    path = tmp_path / name
    with av.open(str(path), "w", format=container) as output:
        stream = output.add_stream(codec, rate=48000, layout="stereo")
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(audio.T), format="fltp", layout="stereo")
        frame.sample_rate = 48000
        frame.pts = 0
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            output.mux(packet)
    decoded, rate = decode(path)
    assert rate == 48000 and decoded.shape[1] == 2
    assert abs(decoded.shape[0] - 48000) <= 2048  # raw ADTS carries no length: encoder padding stays
    assert probe_duration(path) == pytest.approx(1.0, abs=0.05)
    rendered = render_stems(path, FOUR[:2], 2, tmp_path / "out", "clip")
    assert sf.info(str(rendered[0].path)).frames == decoded.shape[0]
