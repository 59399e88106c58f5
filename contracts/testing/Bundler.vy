# pragma version ~=0.4.3
"""
@title An attacker contract: several protocol calls in one transaction (tests only)
@notice The campaign's `bundle` adversary (`harness/core/bundle_actions.py`) drives it.
        Every call runs with this contract as `msg.sender`, in the same block and at the
        same timestamp; if one reverts, the whole transaction reverts with that call's
        reason, so the bundle is atomic. Spec counterpart:
        `harness.core.spec_step.spec_apply` on a `bundle` call, which applies the same
        calls in order to a copy of the state and keeps it only if all succeed.
        Anyone may drive it: it stands for an attacker's contract, whose holdings are
        the attacker's, so who triggers it does not matter to the protocol.
"""

MAX_CALLS: constant(uint256) = 6
MAX_CALLDATA: constant(uint256) = 516
MAX_REVERT: constant(uint256) = 256


struct Step:
    target: address
    data: Bytes[MAX_CALLDATA]


@external
def execute(steps: DynArray[Step, MAX_CALLS]):
    """
    @notice Make every call of `steps` in order, from this contract.
    @dev A failing call's revert data is re-raised unchanged, so the caller sees the
         protocol's own reason string.
    """
    for step: Step in steps:
        ok: bool = False
        response: Bytes[MAX_REVERT] = b""
        ok, response = raw_call(
            step.target, step.data, max_outsize=MAX_REVERT, revert_on_failure=False
        )
        if not ok:
            raw_revert(response)
