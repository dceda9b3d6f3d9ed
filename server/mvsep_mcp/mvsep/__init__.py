"""The MVSep HTTP client: :class:`MVSepClient`, its request/response models and its error tree.

```python
from mvsep_mcp.mvsep import MVSepClient, SeparationRequest, errors, models
```
"""

from __future__ import annotations

from mvsep_mcp.mvsep import errors, models
from mvsep_mcp.mvsep._engine import RequestStats
from mvsep_mcp.mvsep.client import MVSepClient
from mvsep_mcp.mvsep.formats import FORMAT_BY_CODE, FORMAT_BY_NAME, OUTPUT_FORMATS, OutputFormat, OutputFormatName
from mvsep_mcp.mvsep.retry import Idempotency, RetryPolicy
from mvsep_mcp.mvsep.separation_request import RemoteType, SeparationRequest

__all__ = [
    "MVSepClient",
    "SeparationRequest",
    "RequestStats",
    "RetryPolicy",
    "Idempotency",
    "OUTPUT_FORMATS",
    "FORMAT_BY_CODE",
    "FORMAT_BY_NAME",
    "OutputFormat",
    "OutputFormatName",
    "RemoteType",
    "errors",
    "models",
]
