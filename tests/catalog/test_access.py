"""can_use / access_error / check_access: MVSep's orientation (0 everyone, 1 registered, 2 premium)."""

from __future__ import annotations

import pytest
from mvsep_mcp.catalog import AccessDenied, Catalog, access_error, can_use, check_access

from .conftest import make_algorithm


@pytest.mark.parametrize(
    ("orientation", "kind", "allowed"),
    [
        (0, None, True), (0, "anonymous", True), (0, "registered", True), (0, "premium", True),
        (1, None, False), (1, "anonymous", False), (1, "registered", True), (1, "premium", True),
        (2, None, False), (2, "registered", False), (2, "premium", True),
        (7, "registered", False), (7, "premium", True),
    ],
)
def test_can_use(orientation: int, kind: str | None, allowed: bool) -> None:
    algorithm = make_algorithm(orientation=orientation)
    assert can_use(algorithm, kind) is allowed  # type: ignore[arg-type]
    assert (access_error(algorithm, kind) is None) is allowed  # type: ignore[arg-type]


def test_messages_name_the_fix(catalog: Catalog) -> None:
    premium = catalog.find(26)
    assert access_error(premium, "registered") == (
        "Ensemble (vocals, instrum) (render_id 26) is for premium MVSep accounts only: buy premium on mvsep.com, "
        "or choose a model that your account may use."
    )
    registered = make_algorithm(orientation=1, name="Members Model", render_id=77)
    assert access_error(registered, None) == (
        "Members Model (render_id 77) is for registered MVSep users only: set your MVSep API token "
        "(from your MVSep account page), or choose a model open to everyone."
    )
    with pytest.raises(AccessDenied):
        check_access(premium, "registered")
    check_access(premium, "premium")
