"""The MVSep HTTP client: :class:`MVSepClient`, its request/response models and its error tree.

```python
from server.mvsep import MVSepClient, SeparationRequest, errors, models
```
"""

from __future__ import annotations

from server.mvsep import errors, models
from server.mvsep._engine import RequestStats
from server.mvsep.client import MVSepClient
from server.mvsep.retry import Idempotency, RetryPolicy
from server.mvsep.separation_request import OUTPUT_FORMATS, SeparationRequest

__all__ = [
    "MVSepClient",
    "SeparationRequest",
    "RequestStats",
    "RetryPolicy",
    "Idempotency",
    "OUTPUT_FORMATS",
    "errors",
    "models",
]
