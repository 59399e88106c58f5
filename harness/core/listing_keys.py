"""Issue 18: a listing's key names that listing alone. Recomputed with eth_abi's encoder,
not the spec's: the key a ``MarketAdded`` announces is slot + MAX_MARKETS x
(keccak256(abi.encode(the slot's generation before, the listing's parameters)) >> 3),
so an order or a Governor call made for any other listing (one settled in the slot
before, or one announced and not made) never names it."""

from __future__ import annotations

from eth_abi import encode

from harness.core.invariants import check as holds
from pyspec.constants import MAX_MARKETS
from pyspec.keccak import keccak  # the hash primitive only: the encoding here is its own
from pyspec.state import State

PARAMS = "(" + ",".join(["uint256"] * 10) + ")"


def check(before: State, events: list) -> None:
    """After a successful call: each listing it made (every listing in a campaign runs
    through the Governor; the deployment's own, generation 0, are made before)."""
    for index, (name, args) in enumerate(events):
        if name != "MarketAdded":
            continue
        slot, key = args
        params = next(a[1:] for n, a in events[index:] if n == "MarketParamsSet")
        previous = before.markets[slot].generation if slot < len(before.markets) else 0
        digest = keccak(encode(["uint256", PARAMS], [previous, tuple(params)]))
        expected = slot + MAX_MARKETS * (int.from_bytes(digest, "big") >> 3)
        holds(
            "listing_key_names_one_listing",
            key == expected,
            f"listing in slot {slot} after generation {previous}: key {key}, expected "
            f"{expected} from its parameters {params}",
        )
