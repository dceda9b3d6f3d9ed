"""The one root of every error a user (or the model acting for them) can fix.

Each domain raises its own subclass; the MCP layer turns any of them into the text of a ``ToolError`` in exactly one
place (``mvsep_mcp_tools._common.tool``), through :meth:`UserError.user_text`. Anything that is not a ``UserError``
is a bug: it is logged with its traceback and the model sees only the SDK's bare "Error executing tool X".

```
UserError                          .user_text(): one sentence saying what is wrong and what to do
├── ConfigError                    a setting has a value we cannot use                      (mvsep_mcp.config)
├── NoTokenError                   a call needs an MVSep API token and none is set           (mvsep_mcp.session)
├── PlanError                      a request cannot run as given (inputs, output, credits)   (mvsep_mcp.planning)
│   └── NotEnoughCredits           the estimate exceeds the balance
├── CatalogError                   the catalogue cannot honour what was asked               (mvsep_mcp.catalog)
│   ├── UnknownModel               no single model matches; names the closest ones
│   ├── InvalidOption              an option name or value the model does not accept
│   └── AccessDenied               the account may not use the model
├── MediaError                     audio files, names and paths on disk                     (mvsep_mcp.media)
│   ├── UnsupportedAudio           not audio we can read
│   ├── TemplateError              a naming template we cannot use
│   ├── OutsideOutputRoot          a destination would land outside the output folder
│   └── PathTooLong                the output folder leaves no room for a file name
├── DawError                       alignment, BWF chunks and session files                  (mvsep_mcp.daw)
│   ├── NotAWave                   not a RIFF/WAVE file that can be rewritten
│   └── SessionError               a DAW session cannot be built from what was given
├── JobError                       the journal or the runner refuses                        (mvsep_mcp.jobs)
│   ├── JobNotFound                no job with that id for this account
│   ├── JobNotCancellable          already processing / uploading / finished
│   ├── ResultExpired              MVSep no longer keeps the result
│   └── AccountNotAttached         no MVSep client for that account
└── MVSepError                     the MVSep service or the way to it                      (mvsep_mcp.mvsep.errors)
    ├── MissingTokenError
    ├── TransportError (ConnectError, TimeoutError)
    ├── AmbiguousCreateError
    └── APIError (BadRequestError, AuthenticationError, RateLimitError, ServerError, InvalidResponseError)
```
"""

from __future__ import annotations


class UserError(Exception):
    """Something the user can fix. ``str()`` is the message for logs; :meth:`user_text` the sentence for them."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def user_text(self) -> str:
        """The sentence shown to the user or model: what went wrong and what to do (never a secret)."""
        return self.message
