"""Regression: adl principal net of final settlement.

Exported by ``make export`` from /tmp/camp1/counterexample.json.
When found, it failed with: {
 "kind": "InvariantViolation",
 "message": "invariant adl_keeps_principal: 0x71be63f3384f5fb98995898a86b02fb2426c5788: collateral 1091334455 -> 340686665 (funding 0), kept 577 lots at 0"
}
"""

from harness.core.call import Call, Calldata, Signed
from harness.core.sequence import CheckedSequence

CALLS = [
    Call(target="engine", fn="deposit", sender="trader0", args=(3361000000,)),
    Call(target="engine", fn="deposit", sender="trader2", args=(845000000,)),
    Call(target="engine", fn="deposit", sender="trader4", args=(2885000000,)),
    Call(target="engine", fn="deposit", sender="trader7", args=(1096000000,)),
    Call(
        target="settlement",
        fn="settle",
        sender="operator",
        args=(
            ("trader0", 0, False, 25970, 999768, False, 0, 1700086400),
            Signed(order=("trader0", 0, False, 25970, 999768, False, 0, 1700086400)),
            ("trader4", 0, True, 25970, 999768, False, 0, 1700086400),
            Signed(order=("trader4", 0, True, 25970, 999768, False, 0, 1700086400)),
            25970,
            999768,
        ),
    ),
    Call(
        target="settlement",
        fn="settle",
        sender="operator",
        args=(
            ("trader2", 0, False, 4237, 997082, False, 2, 1700086400),
            Signed(order=("trader2", 0, False, 4237, 997082, False, 2, 1700086400)),
            ("trader7", 0, True, 4237, 997082, False, 2, 1700086400),
            Signed(order=("trader7", 0, True, 4237, 997082, False, 2, 1700086400)),
            4237,
            997082,
        ),
    ),
    Call(target="clock", fn="wait", sender="", args=(1,)),
    Call(
        target="settlement",
        fn="settle",
        sender="operator",
        args=(
            ("trader0", 1, False, 102, 25031625, False, 8, 1700086401),
            Signed(order=("trader0", 1, False, 102, 25031625, False, 8, 1700086401)),
            ("trader7", 1, True, 102, 25031625, False, 8, 1700086401),
            Signed(order=("trader7", 1, True, 102, 25031625, False, 8, 1700086401)),
            102,
            25031625,
        ),
    ),
    Call(target="clock", fn="wait", sender="", args=(604800,)),
    Call(
        target="governor",
        fn="schedule",
        sender="owner",
        args=("engine", Calldata(fn="delist_market", args=(1,))),
    ),
    Call(target="clock", fn="wait", sender="", args=(86400,)),
    Call(target="engine", fn="update_price", sender="oracle", args=(1, 5998488, 1700691201)),
    Call(
        target="governor",
        fn="execute",
        sender="outsider",
        args=("engine", Calldata(fn="delist_market", args=(1,))),
    ),
    Call(target="engine", fn="update_price", sender="oracle", args=(0, 1499619, 1700691201)),
    Call(target="engine", fn="deleverage", sender="trader3", args=("trader0",)),
]


def test_adl_principal_net_of_final_settlement(pair):
    sequence = CheckedSequence(pair)  # resets to the deployed state
    for call in CALLS:
        sequence.call(call)  # raises where spec and chain disagree or an invariant fails
