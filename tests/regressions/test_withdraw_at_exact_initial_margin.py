"""Regression: withdraw at exact initial margin.

Exported by ``make export`` from reports/broken/counterexample.json.
When found, it failed with: {
 "kind": "revert",
 "call": "trader4 -> engine.withdraw(660029471)",
 "field": "outcome",
 "spec": "'ok'",
 "chain": "\"revert 'withdraw: below initial margin'\""
}
"""

from harness.core.call import Call
from harness.core.orders import Match
from harness.core.sequence import CheckedSequence
from harness.evm.base import GENESIS_TIME

CALLS = [
    Call(target="engine", fn="deposit", sender="trader4", args=(882000000,)),
    Call(target="engine", fn="deposit", sender="trader5", args=(1000000000,)),
    Call(target="clock", fn="wait", sender="", args=(3,)),
    Call(target="engine", fn="update_price", sender="oracle", args=(0, 1548421, GENESIS_TIME + 3)),
    # the trade, signed by both traders when it runs (it was one operator call then)
    Match("trader5", "trader4", 0, 1424, 1548159, False),
    Call(target="engine", fn="withdraw", sender="trader4", args=(660029471,)),
]


def test_withdraw_at_exact_initial_margin(pair):
    sequence = CheckedSequence(pair)  # resets to the deployed state
    for call in CALLS:
        sequence.call(call)  # raises where spec and chain disagree or an invariant fails
