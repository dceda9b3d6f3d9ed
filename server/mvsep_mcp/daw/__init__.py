"""The DAW companion's domain: stems that line up, provenance in the file, session files. No MCP, no HTTP.

- ``align_stem(input_path, stem_path, daw_ready=…)`` → ``StemAlignment`` (``alignment``): PCM stems cut or padded to
  the input's exact length, lossy stems' encoder delay and padding recorded (``facts``, ``mp4box``, ``pcm_length``).
- ``write_provenance(wav_path, Provenance(song, stem, model, job))`` (``bwf``): BWF ``bext`` + ``iXML`` chunks.
- ``build_session(title, stems, mix, tempo_bpm=…)`` (``session``) → ``write_dawproject`` / ``write_rpp``;
  ``read_tempo_bpm`` (``tempo``) reads the song's tempo from its tags.
- The stem player's audio: ``waveform_peaks`` (``peaks``) and ``mp3_preview`` (``preview``), decoded by ``decode``
  (libsndfile; PyAV for M4A when the ``m4a`` extra is installed).
- From the journal (these two read ``JobRecord``s and sit in the jobs layer, so this package does not import them):
  ``from_jobs.sessions_from_jobs(records, picks)`` / ``session_after_job(record)`` write the session of one song's
  picked stems beside them; ``recorded.record_sessions(changes, written)`` lists those files in each of their jobs'
  manifests and journal rows; ``player.player_view(records)`` is what the stem player shows.

Own code where no maintained library does the job: the RIFF chunk writer (``riff``), the MP4 edit-list reader
(``mp4box``), the BWF/iXML payloads, both session writers, display peaks and the previews' rate change. Reading
lengths uses libsndfile (``soundfile``) and mutagen (including its private LAME header parser).
"""

from __future__ import annotations

from mvsep_mcp.daw.alignment import AlignmentStatus, StemAlignment, align_stem
from mvsep_mcp.daw.bwf import Provenance, write_provenance
from mvsep_mcp.daw.daw_session import DawSession, SessionTrack, StemFile, build_session, stem_colour, stem_file
from mvsep_mcp.daw.dawproject import write_dawproject
from mvsep_mcp.daw.errors import DawError, NotAWave, SessionError
from mvsep_mcp.daw.reaper import write_rpp
from mvsep_mcp.daw.stream_facts import StreamFacts, UnreadableAudio, mp3_limits, read_stream_facts

__all__ = [
    "AlignmentStatus",
    "DawError",
    "NotAWave",
    "Provenance",
    "DawSession",
    "SessionError",
    "SessionTrack",
    "StemAlignment",
    "StemFile",
    "StreamFacts",
    "UnreadableAudio",
    "align_stem",
    "build_session",
    "mp3_limits",
    "read_stream_facts",
    "stem_colour",
    "stem_file",
    "write_dawproject",
    "write_provenance",
    "write_rpp",
]
