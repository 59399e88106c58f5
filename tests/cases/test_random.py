"""Seeded random sequences: the action policy (``harness.core.actions``) on
``random.Random(seed)`` leads to a pre-state, then one action of a given kind, whatever
its outcome; each runs on the spec and on both chains and renders its vector into the
category of that action."""

import random

import pytest

from harness.core import actions
from harness.core.spec_step import spec_apply
from harness.vectors.builder import Builder

# Random pre-calls use the fuzz machine's mix without listings, view checks and the
# adversaries (whose targets the vectors of their own findings cover).
LEFT_OUT = (
    "list_market",
    "check_views",
    "collude",
    "front_run",
    "self_dealing_pair",
    "dust",
    "extremes",
    "pause",
    "hand_over",
    "owed_gain",
    "opposite_losers",
)
MENU = actions.weighted({k: w for k, w in actions.ACTION_WEIGHTS.items() if k not in LEFT_OUT})
# (seed, successful pre-calls before the action, action, category). The seeds were picked
# so that the waterfall actions succeed and take their branches, and a few are rejected.
SEQUENCES = (
    (18, 14, "liquidate", "liquidation"),
    (34, 14, "liquidate", "liquidation"),
    (38, 14, "liquidate", "liquidation"),
    (86, 14, "liquidate", "liquidation"),
    (4, 16, "deleverage", "adl"),
    (18, 16, "deleverage", "adl"),
    (177, 16, "deleverage", "adl"),
    (483, 16, "deleverage", "bad_debt"),
    (589, 16, "deleverage", "bad_debt"),
    (1, 12, "trade", "trade"),
    (2, 12, "trade", "trade"),
    (4, 12, "trade", "trade"),
    (5, 12, "trade", "trade"),
    (6, 10, "withdraw", "withdraw"),
    (13, 10, "withdraw", "withdraw"),
    (1, 10, "set_funding_rate", "funding"),
    (1, 10, "move_price", "oracle"),
    (3, 10, "move_price", "oracle"),
    (13, 10, "deposit", "deposit"),
    (3, 10, "withdraw_insurance", "insurance"),
    (1, 8, "top_up_insurance", "insurance"),
)


def build(case: Builder, seed: int, length: int, action: str) -> list:
    """The random pre-calls, then the action; return the action's events."""
    world = case.pair
    choose = actions.RandomChoices(random.Random(seed))
    for call in actions.opening_deposits(world, choose):
        case.attempt(call)
    while len(case.pre) < length:
        for call in actions.next_calls(world, choose, MENU):
            case.attempt(call)
    *first, last = actions.ACTIONS[action](world, choose)
    for call in first:  # a withdrawal onto the margin boundary
        case.attempt(call)
    _, reason, _ = spec_apply(world.state.copy(), world.actors, last)
    return case.act(last, reverts=reason)  # whatever the spec decides, the chain must agree


@pytest.mark.parametrize(
    ("seed", "length", "action", "category"),
    SEQUENCES,
    ids=[f"{action}_seed{seed}" for seed, _, action, _ in SEQUENCES],
)
def test_random(case, seed, length, action, category):
    text = f"Random sequence (seed {seed}): {length} successful calls, then a random {action}."
    case.named(category, f"random_{action}_seed{seed}", text)
    build(case, seed, length, action)
