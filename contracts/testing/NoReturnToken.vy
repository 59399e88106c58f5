# pragma version ~=0.4.3
"""
@title A token whose transfers return nothing, like USDT (tests only)
@notice `tests/contracts/test_tokens.py`: the engine must accept it.
"""

event Transfer:
    sender: indexed(address)
    receiver: indexed(address)
    value: uint256

decimals: public(constant(uint8)) = 6
balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])


@external
def mint(receiver: address, amount: uint256):
    self.balanceOf[receiver] += amount


@external
def approve(spender: address, amount: uint256):
    self.allowance[msg.sender][spender] = amount


@external
def transfer(receiver: address, amount: uint256):
    self._move(msg.sender, receiver, amount)


@external
def transferFrom(owner: address, receiver: address, amount: uint256):
    assert self.allowance[owner][msg.sender] >= amount, "token: insufficient allowance"
    self.allowance[owner][msg.sender] -= amount
    self._move(owner, receiver, amount)


@internal
def _move(sender: address, receiver: address, amount: uint256):
    assert self.balanceOf[sender] >= amount, "token: insufficient balance"
    self.balanceOf[sender] -= amount
    self.balanceOf[receiver] += amount
    log Transfer(sender=sender, receiver=receiver, value=amount)
