"""The start state every differential run shares: actors, the deployment and its setup.

Deployment parameters (markets, liquidator share, insurance floor) come from
``configs/`` through ``deployment.config``; what only tests need (how much each actor
holds, the first insurance top-up, how many traders) is defined here. The owner deploys
the token (nonce 0), the ADL allocator (nonce 1), the engine (nonce 2), the signed-order
Settlement (nonce 3), the views (nonce 4) and the Governor (nonce 5: the engine's
constructor already names it and the Settlement) on a fresh chain, so their addresses are
known before anything runs (``TOKEN_ADDRESS`` .. ``GOVERNOR_ADDRESS``). The owner actor
owns the Governor. After the state lens (nonce 6) it deploys the attacker contract
(``contracts/testing/Bundler.vy``, nonce 7): the actor ``attacker``, a state account like
the traders, which acts only through ``bundle`` calls.
"""

from __future__ import annotations

from deployment.address import create_address
from deployment.config import DeploymentConfig, load
from harness.core.call import Call, bundle
from harness.evm.base import ACCOUNTS, CHAIN_ID, GENESIS_TIME
from pyspec import engine, governor, token
from pyspec.constants import COLLATERAL_DECIMALS
from pyspec.state import OrderBook, State

USDC = 10**COLLATERAL_DECIMALS
# What the campaign's listings trade: two names, so two listings may share one risk tier
# and differ only by asset (issue 18: the key hashes it).
LISTED_ASSETS = ("listed-a", "listed-b")
MAX_UINT256 = 2**256 - 1
INITIAL_INSURANCE = 1_000 * USDC
TRADER_FUNDS = 1_000_000 * USDC
N_TRADERS = 8
ROLES = ("owner", "oracle", "operator", "outsider")
# The attacker contract's actor: it has no key, so its calls go through a bundle.
ATTACKER = "attacker"

DEFAULT_CONFIG = load("default")


def actor_names(n_traders: int = N_TRADERS) -> tuple[str, ...]:
    """The roles, then ``trader0`` .. ``trader<n-1>``: the order of ``ACCOUNTS``."""
    return ROLES + tuple(f"trader{i}" for i in range(n_traders))


def trader_names(n_traders: int = N_TRADERS) -> list[str]:
    return list(actor_names(n_traders)[len(ROLES) :])


def state_accounts(n_traders: int = N_TRADERS) -> list[str]:
    """Actors whose balances and engine account the compared state covers, in its order;
    each is minted ``TRADER_FUNDS`` and approves the engine at setup."""
    return ["owner", "outsider", *trader_names(n_traders), ATTACKER]


ACTORS = dict(zip(actor_names(), ACCOUNTS, strict=False))
TOKEN_ADDRESS = create_address(ACTORS["owner"], 0)
ALLOCATOR_ADDRESS = create_address(ACTORS["owner"], 1)
GOVERNANCE_ADDRESS = create_address(ACTORS["owner"], 2)
ENGINE_ADDRESS = create_address(ACTORS["owner"], 3)
SETTLEMENT_ADDRESS = create_address(ACTORS["owner"], 4)
VIEWS_ADDRESS = create_address(ACTORS["owner"], 5)
GOVERNOR_ADDRESS = create_address(ACTORS["owner"], 6)
ATTACKER_ADDRESS = create_address(ACTORS["owner"], 8)


def new_spec_state(
    actors: dict[str, str],
    token_address: str,
    config: DeploymentConfig = DEFAULT_CONFIG,
    timestamp: int = GENESIS_TIME,
) -> State:
    """The spec state right after the engine's, the Settlement's and the Governor's
    constructors (``actors`` has "engine", "settlement" and "governor"), at block time
    ``timestamp``."""
    state = engine.new_state(
        actors["engine"],
        token.Token(token_address),
        actors["owner"],
        actors["oracle"],
        actors["settlement"],
        actors["governor"],
        config.liquidator_share_ratio,
        config.insurance_floor,
        timestamp,
    )
    state.book = OrderBook(actors["settlement"], CHAIN_ID, actors["operator"])
    state.timelock = governor.new_governor(
        actors["governor"],
        actors["owner"],
        actors["engine"],
        actors["settlement"],
        config.governance_delay,
    )
    return state


def setup_calls(
    config: DeploymentConfig = DEFAULT_CONFIG,
    n_traders: int = N_TRADERS,
    timestamp: int = GENESIS_TIME,
) -> list[Call]:
    """The calls after deployment that build the start state, in order: list and price
    every market (observed at block time ``timestamp``), fund and approve every state
    account, top the insurance fund up."""
    calls = []
    for market_id, market in enumerate(config.markets):
        calls.append(Call("engine", "add_market", "owner", (market.listing(), market.asset)))
        price = (market_id, market.initial_price, timestamp)
        calls.append(Call("engine", "update_price", "oracle", price))
    for name in state_accounts(n_traders):
        calls.append(Call("token", "mint", "owner", (name, TRADER_FUNDS)))
        approve = Call("token", "approve", name, ("engine", MAX_UINT256))
        calls.append(bundle("owner", approve) if name == ATTACKER else approve)
    calls.append(Call("engine", "top_up_insurance", "owner", (INITIAL_INSURANCE,)))
    return calls


def deploy_engine_code(chain, deployer: str) -> tuple[str, str]:
    """Deploy the code the engine is built on: its allocator (contracts/AdlAllocator.vy),
    then its governance entry points on that allocator (contracts/EngineGovernance.vy);
    return both addresses, in the engine's constructor order."""
    from harness.evm import artifacts

    allocator = chain.deploy(artifacts.load("AdlAllocator").initcode(), deployer)
    governance = chain.deploy(artifacts.load("EngineGovernance").initcode(allocator), deployer)
    return allocator, governance
