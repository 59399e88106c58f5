"""Issue 18: a listing's key names that listing alone. Recomputed with eth_abi's encoder,
not the spec's: the key a ``MarketAdded`` announces is slot + MAX_MARKETS x
(keccak256(abi.encode(the slot's generation before, the listing's parameters, its
asset)) >> 3), so an order or a Governor call made for any other listing (one settled in
the slot before, or one announced and not made, of another asset or parameters) never
names it. The owner's own listing into a new slot (the deployment's, while the engine
holds no tokens) keeps generation 0: key = slot."""

from __future__ import annotations

from eth_abi import encode

from harness.core.invariants import check as holds
from pyspec.constants import MAX_MARKETS
from pyspec.keccak import keccak  # the hash primitive only: the encoding here is its own
from pyspec.state import State

PARAMS = "(" + ",".join(["uint256"] * 10) + ")"


def check(before: State, events: list, direct: bool) -> None:
    """After a successful call: each listing it made (``direct``: the owner's own
    ``add_market``, not a Governor execution)."""
    for index, (name, args) in enumerate(events):
        if name != "MarketAdded":
            continue
        slot, key, asset = args
        params = next(a[1:] for n, a in events[index:] if n == "MarketParamsSet")
        fresh = slot >= len(before.markets)
        previous = 0 if fresh else before.markets[slot].generation
        expected = slot  # the owner's direct listing into a new slot
        if not (direct and fresh):
            words = encode(["uint256", PARAMS, "bytes32"], [previous, tuple(params), asset])
            expected += MAX_MARKETS * (int.from_bytes(keccak(words), "big") >> 3)
        holds(
            "listing_key_names_one_listing",
            key == expected,
            f"listing in slot {slot} after generation {previous}: key {key}, expected "
            f"{expected} from its parameters {params}",
        )
