"""The MVSep catalogue as the product uses it: disk cache with a time limit, search, option resolution, pricing.

```python
cache = CatalogCache(fetch, cache_path_for(base_url), base_url=base_url)
catalog = await cache.get()
page = catalog.search("roformer", stem="vocals", sort="rating")
model = catalog.find("BS Roformer")                   # or 40, "40"
options = resolve_options(model, {"Overlap": "87.5%"}, account_kind="registered")
estimate_cost(model, options, duration_s=215.0).credits
ranking = await recommend(catalog, Leaderboards(client, cache_dir, base_url).board, "vocals", account_kind=None)
```
"""

from __future__ import annotations

from .access import ACCESS_LABELS, AccountKind, access_error, access_label, can_use, check_access
from .cache import CatalogCache, cache_path_for, default_cache_dir
from .describe import FieldDetails, ModelDetails, OptionDetails, describe
from .errors import AccessDenied, CatalogError, InvalidOption, NoEvidence, UnknownModel
from .leaderboard import Leaderboards, Ranking, Recommended, recommend
from .options import resolve_options
from .pricing import AppliedRule, CostEstimate, base_credits, estimate_cost
from .search import Catalog, SearchPage, SortKey

__all__ = [
    "ACCESS_LABELS",
    "AccessDenied",
    "AccountKind",
    "AppliedRule",
    "Catalog",
    "CatalogCache",
    "CatalogError",
    "CostEstimate",
    "FieldDetails",
    "InvalidOption",
    "Leaderboards",
    "NoEvidence",
    "Ranking",
    "Recommended",
    "ModelDetails",
    "OptionDetails",
    "SearchPage",
    "SortKey",
    "UnknownModel",
    "access_error",
    "access_label",
    "base_credits",
    "cache_path_for",
    "can_use",
    "check_access",
    "default_cache_dir",
    "describe",
    "estimate_cost",
    "recommend",
    "resolve_options",
]
