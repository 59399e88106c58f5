"""Regression: fund first after a keeper's repayment.

A false alarm of the property, not of the engine: trader3, owing 0.044132 USDC for a
liquidation piece the fund covered (M-1), deleverages trader0 and is its counterparty. The
fund pays first (down to 0), the winners are charged, and the call closes trader3's last
position, so it repays what it owed: the fund ends at 0.044132 after the charges.
``fund_first`` now counts a repayment made after the fills as booked in the call.

Exported by ``make export`` from reports/r5-pnl_pro_rata/counterexample.json.
When found, it failed with: {
 "invariant": "fund_first",
 "kind": "InvariantViolation",
 "step": 22,
 "fn": "engine.deleverage",
 "message": "invariant fund_first: counterparties charged 23807243754 while the fund holds 44132 (booked in the call: 0)",
 "entry_points": [
  "engine.deleverage"
 ]
}
"""

from harness.core.call import Call, Signed
from harness.core.sequence import CheckedSequence

CALLS = [
    Call(target="clock", fn="wait", sender="", args=(172800,)),
    Call(target="engine", fn="deposit", sender="trader0", args=(11267000000,)),
    Call(target="engine", fn="deposit", sender="trader1", args=(778000000,)),
    Call(target="engine", fn="deposit", sender="trader3", args=(505000000,)),
    Call(target="engine", fn="deposit", sender="trader4", args=(1000000000,)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="engine", fn="update_price", sender="oracle", args=(0, 1000000, 1700172801)),
    Call(target="engine", fn="deposit", sender="trader3", args=(20000000000,)),
    Call(
        target="settlement",
        fn="settle",
        sender="operator",
        args=(
            ("trader3", 0, False, 8000, 1000000, False, 2, 1700259201),
            Signed(order=("trader3", 0, False, 8000, 1000000, False, 2, 1700259201)),
            ("trader4", 0, True, 8000, 1000000, False, 2, 1700259201),
            Signed(order=("trader4", 0, True, 8000, 1000000, False, 2, 1700259201)),
            8000,
            1000000,
        ),
    ),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="engine", fn="withdraw", sender="trader3", args=(9727510959,)),
    Call(
        target="settlement",
        fn="settle",
        sender="operator",
        args=(
            ("trader0", 0, False, 112387, 1002499, False, 4, 1700259203),
            Signed(order=("trader0", 0, False, 112387, 1002499, False, 4, 1700259203)),
            ("trader3", 0, True, 112387, 1002499, False, 4, 1700259203),
            Signed(order=("trader3", 0, True, 112387, 1002499, False, 4, 1700259203)),
            112387,
            1002499,
        ),
    ),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="clock", fn="wait", sender="", args=(60,)),
    Call(target="clock", fn="wait", sender="", args=(60,)),
    Call(target="engine", fn="update_price", sender="oracle", args=(0, 855868, 1700172924)),
    Call(target="clock", fn="wait", sender="", args=(3600,)),
    Call(target="engine", fn="liquidate", sender="trader1", args=("trader3", 0, 1)),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(target="engine", fn="update_price", sender="oracle", args=(0, 1324032, 1700176525)),
    Call(target="engine", fn="deleverage", sender="trader3", args=("trader0",)),
]


def test_fund_first_after_a_keepers_repayment(pair):
    sequence = CheckedSequence(pair)  # resets to the deployed state
    for call in CALLS:
        sequence.call(call)  # raises where spec and chain disagree or an invariant fails
