# pragma version ~=0.4.3
"""
@title A collateral token that misbehaves on purpose (tests only)
@notice One ERC20 with a switchable fault, to show what the engine does with common token
        behaviours (`tests/contracts/test_tokens.py`): return false instead of reverting,
        take a fee on transfer, call back into the engine from a transfer, refuse
        blocked accounts, or revert every transfer. `NoReturnToken.vy` covers tokens
        whose transfers return nothing (USDT-style).
"""

interface IEngine:
    def deposit(amount: uint256): nonpayable


NORMAL: constant(uint256) = 0
RETURNS_FALSE: constant(uint256) = 1
FEE_ON_TRANSFER: constant(uint256) = 2
REENTRANT: constant(uint256) = 3
BLOCKLIST: constant(uint256) = 4
REVERTING: constant(uint256) = 5
# Fee of FEE_ON_TRANSFER, in parts per 10,000 (1%), burned.
FEE_BPS: constant(uint256) = 100

event Transfer:
    sender: indexed(address)
    receiver: indexed(address)
    value: uint256

event Approval:
    owner: indexed(address)
    spender: indexed(address)
    value: uint256

decimals: public(constant(uint8)) = 6
balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])
totalSupply: public(uint256)
mode: public(uint256)
blocked: public(HashMap[address, bool])
# REENTRANT: the call a transferFrom makes first, and whether it succeeded.
hook_target: public(address)
hook_data: public(Bytes[100])
hook_ok: public(bool)


@external
def set_mode(mode: uint256):
    self.mode = mode


@external
def set_blocked(account: address, blocked: bool):
    self.blocked[account] = blocked


@external
def set_hook(target: address, data: Bytes[100]):
    self.hook_target = target
    self.hook_data = data


@external
def deposit_as_self(engine: IEngine, amount: uint256):
    """
    @notice The token deposits its own balance into `engine`, so that a REENTRANT hook can
            call the engine back on the token's own account in the middle of the deposit.
    """
    self.allowance[self][engine.address] = max_value(uint256)
    extcall engine.deposit(amount)


@external
def mint(receiver: address, amount: uint256):
    self.balanceOf[receiver] += amount
    self.totalSupply += amount
    log Transfer(sender=empty(address), receiver=receiver, value=amount)


@external
def approve(spender: address, amount: uint256) -> bool:
    self.allowance[msg.sender][spender] = amount
    log Approval(owner=msg.sender, spender=spender, value=amount)
    return True


@external
def transfer(receiver: address, amount: uint256) -> bool:
    return self._transfer(msg.sender, receiver, amount)


@external
def transferFrom(owner: address, receiver: address, amount: uint256) -> bool:
    if self.mode == REENTRANT and self.hook_target != empty(address):
        self.hook_ok = raw_call(self.hook_target, self.hook_data, revert_on_failure=False)
    if self.mode == RETURNS_FALSE:
        return False
    allowed: uint256 = self.allowance[owner][msg.sender]
    assert allowed >= amount, "token: insufficient allowance"
    if allowed != max_value(uint256):
        self.allowance[owner][msg.sender] = allowed - amount
    return self._transfer(owner, receiver, amount)


@internal
def _transfer(sender: address, receiver: address, amount: uint256) -> bool:
    if self.mode == RETURNS_FALSE:
        return False
    assert self.mode != REVERTING, "token: paused"
    if self.mode == BLOCKLIST:
        assert not self.blocked[sender] and not self.blocked[receiver], "token: blocked"
    assert self.balanceOf[sender] >= amount, "token: insufficient balance"
    fee: uint256 = 0
    if self.mode == FEE_ON_TRANSFER:
        fee = amount * FEE_BPS // 10_000
    self.balanceOf[sender] -= amount
    self.balanceOf[receiver] += amount - fee
    self.totalSupply -= fee
    log Transfer(sender=sender, receiver=receiver, value=amount - fee)
    return True
