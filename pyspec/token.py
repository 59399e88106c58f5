"""Model of the collateral token. Contract: ``contracts/mocks/MockToken.vy``."""

from dataclasses import dataclass, field

from pyspec.errors import require

MAX_UINT256 = 2**256 - 1
ZERO_ADDRESS = "0x" + "00" * 20


@dataclass(slots=True)
class Token:
    """ERC20 balances and allowances; ``events`` is shared with the engine's event list."""

    address: str
    balances: dict[str, int] = field(default_factory=dict)
    allowances: dict[tuple[str, str], int] = field(default_factory=dict)
    total_supply: int = 0
    events: list = field(default_factory=list)

    def copy(self) -> "Token":
        return Token(
            self.address, dict(self.balances), dict(self.allowances), self.total_supply, self.events
        )

    def balance_of(self, owner: str) -> int:
        return self.balances.get(owner, 0)


def transfer(token: Token, sender: str, receiver: str, amount: int) -> bool:
    """Move ``amount`` from ``sender`` to ``receiver``; True, as the ERC20 returns.
    Contract: ``MockToken._transfer``."""
    require(token.balance_of(sender) >= amount, "token: insufficient balance")
    token.balances[sender] = token.balance_of(sender) - amount
    token.balances[receiver] = token.balance_of(receiver) + amount
    token.events.append(("Transfer", (sender, receiver, amount)))
    return True


def transfer_from(token: Token, spender: str, owner: str, receiver: str, amount: int) -> bool:
    """Move ``owner``'s tokens on ``spender``'s allowance; True, as the ERC20 returns.
    Contract: ``MockToken.transferFrom``."""
    allowed = token.allowances.get((owner, spender), 0)
    require(allowed >= amount, "token: insufficient allowance")
    if allowed != MAX_UINT256:
        token.allowances[(owner, spender)] = allowed - amount
    return transfer(token, owner, receiver, amount)


def approve(token: Token, owner: str, spender: str, amount: int) -> None:
    """Set ``spender``'s allowance over ``owner``'s tokens. Contract: ``MockToken.approve``."""
    token.allowances[(owner, spender)] = amount
    token.events.append(("Approval", (owner, spender, amount)))


def mint(token: Token, receiver: str, amount: int) -> None:
    """Create ``amount`` tokens for ``receiver``. Contract: ``MockToken.mint``."""
    token.balances[receiver] = token.balance_of(receiver) + amount
    token.total_supply += amount
    token.events.append(("Transfer", (ZERO_ADDRESS, receiver, amount)))
