"""How a hosted user's files look in answers: a path inside their own folder and a signed download URL, never a
path on the server's disk (:class:`Presenter`, one per user)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mvsep_mcp.hosted.storage import relative_inside

if TYPE_CHECKING:  # signing needs the [hosted] extra; this module is imported by every install
    from mvsep_mcp.hosted.signing import DownloadSigner


@dataclass(frozen=True)
class Presenter:
    root: Path  # the user's folder
    user_key: str
    signer: DownloadSigner

    def path(self, server_path: str | Path) -> str:
        """The file's path inside the user's folder ("" for anything outside it, which is never shown)."""
        return relative_inside(self.root, server_path) or ""

    def text(self, sentence: str) -> str:
        """A sentence (an error, a job's failure) with every server path of the user's files made relative to their
        folder, and the server's storage itself unnamed."""
        root = str(self.root)
        for separator in ("/", "\\"):
            sentence = sentence.replace(root + separator, "")
        return sentence.replace(root, "your folder").replace(str(self.root.parent), "the server's storage")

    def url(self, server_path: str | Path) -> str | None:
        """A signed, expiring download URL of a file in the user's folder (``None`` outside it)."""
        relative = relative_inside(self.root, server_path)
        return self.signer.url(self.user_key, relative) if relative else None
