"""What was typed against a list of names: the ones it could mean, best first (for completions).

```python
ranked(["mp3", "wav", "flac", "m4a", "wav32", "flac24"], "fl")   # ["flac", "flac24"]
ranked(["Vocals", "Other", "Instrumental"], "al")                 # ["Vocals", "Instrumental"]
```
"""

from __future__ import annotations

from collections.abc import Iterable


def ranked(values: Iterable[str], typed: str) -> list[str]:
    """The ``values`` (once each) that start with ``typed``, then those that contain it, case ignored; each group in
    the order given. Nothing typed: every value."""
    wanted = typed.strip().casefold()
    unique = list(dict.fromkeys(values))
    if not wanted:
        return unique
    starting = [v for v in unique if v.casefold().startswith(wanted)]
    containing = [v for v in unique if wanted in v.casefold() and v not in starting]
    return starting + containing
