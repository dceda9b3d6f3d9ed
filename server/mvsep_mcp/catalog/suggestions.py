"""Models that what was typed could mean, best first: for completing a ``render_id`` or a prompt's model.

```python
suggest_models(catalog, "63")        # render_id 63 first, then 630…, then names containing "63"
suggest_models(catalog, "rofo")      # names starting with it, then names with a word starting with it, …
suggest_models(catalog, "")          # the most used models
```

Only active models are suggested. Within a tier the more used model comes first (then the better rated one).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from mvsep_mcp.mvsep.models import Algorithm
from mvsep_mcp.policy import CATALOG_FUZZY_CUTOFF

from .facts import is_active, rating_score, usage
from .search import Catalog, haystack, similarity
from .text import fold, loose


def suggest_models(catalog: Catalog, typed: str) -> list[Algorithm]:
    """Every active model ``typed`` may mean, in the order a person would want to pick from."""
    active = [a for a in catalog.algorithms if is_active(a)]
    popular = sorted(active, key=lambda a: (-usage(a), -rating_score(a), fold(a.name)))
    query = typed.strip()
    if not query:
        return popular
    wanted = loose(query)
    tiers: list[Callable[[Algorithm], bool]] = []
    if query.isdigit():
        tiers += [lambda a: str(a.render_id) == query, lambda a: str(a.render_id).startswith(query)]
    query_words = wanted.split()
    if query_words:
        tiers += [
            lambda a: loose(a.name).startswith(wanted),
            lambda a: all(any(w.startswith(q) for w in loose(a.name).split()) for q in query_words),
            lambda a: all(q in loose(a.name) for q in query_words),
            lambda a: all(q in haystack(a) for q in query_words),
            lambda a: similarity(wanted, a) >= CATALOG_FUZZY_CUTOFF,
        ]
    found: dict[int, Algorithm] = {}
    for matches in tiers:
        for algorithm in popular:
            if algorithm.render_id not in found and matches(algorithm):
                found[algorithm.render_id] = algorithm
    return list(found.values())


def model_values(catalog: Catalog, algorithms: list[Algorithm]) -> list[str]:
    """What a prompt's ``model`` is completed with: each model's name, or its render_id where another model of the
    catalogue has the same name (such a name would not find one model)."""
    counts = Counter(fold(a.name) for a in catalog.algorithms)
    return [a.name if counts[fold(a.name)] == 1 else str(a.render_id) for a in algorithms]
