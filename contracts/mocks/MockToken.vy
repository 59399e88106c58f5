# pragma version ~=0.4.3
"""
@title Mock collateral token (USDC-like, 6 decimals)
@notice A minimal ERC20 for local chains. Anyone may mint: it exists only so
        tests and fuzz campaigns can fund accounts.
@dev Spec counterpart: `pyspec/token.py`. Reason strings are mirrored there.
"""

from ethereum.ercs import IERC20

implements: IERC20

event Transfer:
    sender: indexed(address)
    receiver: indexed(address)
    value: uint256

event Approval:
    owner: indexed(address)
    spender: indexed(address)
    value: uint256

name: public(constant(String[16])) = "Mock USD Coin"
symbol: public(constant(String[8])) = "mUSDC"
decimals: public(constant(uint8)) = 6

balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])
totalSupply: public(uint256)


@external
def transfer(receiver: address, amount: uint256) -> bool:
    """
    @notice Move `amount` from the caller to `receiver`.
    @dev Spec: `token.transfer`.
    """
    self._transfer(msg.sender, receiver, amount)
    return True


@external
def transferFrom(owner: address, receiver: address, amount: uint256) -> bool:
    """
    @notice Move `amount` from `owner` to `receiver` using the caller's allowance.
    @dev Spec: `token.transfer_from`. An allowance of max_value(uint256) is never spent.
    """
    allowed: uint256 = self.allowance[owner][msg.sender]
    assert allowed >= amount, "token: insufficient allowance"
    if allowed != max_value(uint256):
        self.allowance[owner][msg.sender] = allowed - amount
    self._transfer(owner, receiver, amount)
    return True


@external
def approve(spender: address, amount: uint256) -> bool:
    """
    @notice Let `spender` move up to `amount` of the caller's tokens.
    @dev Spec: `token.approve`.
    """
    self.allowance[msg.sender][spender] = amount
    log Approval(owner=msg.sender, spender=spender, value=amount)
    return True


@external
def mint(receiver: address, amount: uint256):
    """
    @notice Create `amount` new tokens for `receiver` (test token: unrestricted).
    @dev Spec: `token.mint`.
    """
    self.balanceOf[receiver] += amount
    self.totalSupply += amount
    log Transfer(sender=empty(address), receiver=receiver, value=amount)


@internal
def _transfer(sender: address, receiver: address, amount: uint256):
    assert self.balanceOf[sender] >= amount, "token: insufficient balance"
    self.balanceOf[sender] -= amount
    self.balanceOf[receiver] += amount
    log Transfer(sender=sender, receiver=receiver, value=amount)
