"""Contract unit tests on each chain: every rejected call reverts with its reason string.

These call the chain alone (``Protocol.send``), so they test the contracts on their own;
the differential tests check the spec agrees.
"""

import pytest

from harness import artifacts
from harness.chains import ChainError
from harness.protocol import Call

USDC = 10**6
UINT_MAX = 2**256 - 1


def send(protocol, target, fn, sender, *args):
    return protocol.send(Call(target, fn, sender, args))


def reverts(protocol, reason, fn, sender, *args, target="engine"):
    result = send(protocol, target, fn, sender, *args)
    assert not result.success
    assert result.reason == reason


def ok(protocol, fn, sender, *args):
    result = send(protocol, "engine", fn, sender, *args)
    assert result.success, result.reason
    return result


def test_engine_fits_eip170(anvil_protocol):
    # anvil enforces the 24,576-byte limit at deployment; this shows the margin left
    code = anvil_protocol.chain.rpc("eth_getCode", [anvil_protocol.engine_address, "latest"])
    assert 20_000 < (len(code) - 2) // 2 <= 24_576


def test_deposit_and_withdraw_reasons(protocol):
    reverts(protocol, "deposit: zero amount", "deposit", "trader0", 0)
    reverts(protocol, "deposit: amount too large", "deposit", "trader0", 10**15 + 1)
    reverts(protocol, "token: insufficient balance", "deposit", "trader0", 10**15)
    ok(protocol, "deposit", "trader0", 1_000 * USDC)
    reverts(protocol, "withdraw: zero amount", "withdraw", "trader0", 0)
    reverts(protocol, "withdraw: insufficient collateral", "withdraw", "trader0", 1_000 * USDC + 1)
    reverts(protocol, "withdraw: insufficient collateral", "withdraw", "trader0", UINT_MAX)
    ok(protocol, "withdraw", "trader0", 1_000 * USDC)


def test_roles(protocol):
    reverts(protocol, "auth: not oracle", "update_price", "outsider", 0, 2, 9)
    reverts(
        protocol,
        "auth: not operator",
        "settle_trade",
        "outsider",
        "trader0",
        "trader1",
        0,
        1,
        10**6,
        True,
    )
    reverts(protocol, "auth: not owner", "add_market", "outsider", 2, 1, 0, 1, 0, 0, 0)
    reverts(protocol, "auth: not owner", "withdraw_insurance", "outsider", 1)


def test_oracle_reasons(protocol):
    reverts(protocol, "market: unknown market", "update_price", "oracle", 9, 1, 9)
    reverts(protocol, "oracle: zero price", "update_price", "oracle", 0, 0, 9)
    reverts(protocol, "oracle: price too large", "update_price", "oracle", 0, 10**12 + 1, 9)
    reverts(protocol, "oracle: stale timestamp", "update_price", "oracle", 0, 5, 1)
    ok(protocol, "update_price", "oracle", 0, 5, 2)


def test_market_listing_reasons(protocol):
    listing = ("add_market", "owner")
    reverts(protocol, "market: invalid margin ratios", *listing, 10, 10, 0, 1, 0, 0, 0)
    reverts(protocol, "market: invalid margin ratios", *listing, 10**6 + 1, 10, 0, 1, 0, 0, 0)
    reverts(protocol, "market: invalid liquidation fee", *listing, 20, 10, 10, 1, 0, 0, 0)
    reverts(protocol, "market: invalid price band", *listing, 20, 10, 1, 0, 0, 0, 0)
    reverts(protocol, "market: invalid funding bound", *listing, 20, 10, 1, 1, 10**6 + 1, 0, 0)
    reverts(protocol, "market: invalid fees", *listing, 20, 10, 1, 1, 0, 10**5 + 1, 0)
    reverts(protocol, "market: invalid fees", *listing, 20, 10, 1, 1, 0, 0, 10**5 + 1)
    ok(protocol, *listing, 20, 10, 1, 1, 0, 0, 0)
    reverts(protocol, "market: no price", "update_funding", "operator", 2, 1)
    for _ in range(5):
        ok(protocol, *listing, 20, 10, 1, 1, 0, 0, 0)
    reverts(protocol, "market: too many markets", *listing, 20, 10, 1, 1, 0, 0, 0)


def test_funding_reasons(protocol):
    reverts(protocol, "auth: not operator", "update_funding", "outsider", 0, 1)
    reverts(protocol, "market: unknown market", "update_funding", "operator", 7, 1)
    result = ok(protocol, "update_funding", "operator", 0, 2**255 - 1)  # clamped
    assert result.success


def test_trade_reasons(protocol):
    ok(protocol, "deposit", "trader0", 1_000 * USDC)
    ok(protocol, "deposit", "trader1", 1_000 * USDC)
    trade = ("settle_trade", "operator")
    reverts(protocol, "market: unknown market", *trade, "trader0", "trader1", 2, 1, 10**6, True)
    reverts(protocol, "trade: zero size", *trade, "trader0", "trader1", 0, 0, 10**6, True)
    reverts(
        protocol, "trade: size too large", *trade, "trader0", "trader1", 0, 10**9 + 1, 10**6, True
    )
    reverts(protocol, "trade: self-trade", *trade, "trader0", "trader0", 0, 1, 10**6, True)
    reverts(
        protocol, "trade: price too large", *trade, "trader0", "trader1", 0, 1, 10**12 + 1, True
    )
    reverts(
        protocol, "trade: price outside band", *trade, "trader0", "trader1", 0, 1, 1_050_001, True
    )
    reverts(
        protocol,
        "trade: buyer below initial margin",
        *trade,
        "trader0",
        "trader1",
        0,
        10_001,
        10**6,
        True,
    )
    reverts(
        protocol,
        "trade: seller below initial margin",
        *trade,
        "trader0",
        "trader2",
        0,
        1,
        10**6,
        True,
    )
    ok(protocol, *trade, "trader0", "trader1", 0, 5_000, 1_050_000, True)


def test_waterfall_reasons(protocol):
    reverts(protocol, "liquidate: self-liquidation", "liquidate", "trader0", "trader0", 0)
    reverts(protocol, "liquidate: no position", "liquidate", "trader1", "trader0", 0)
    reverts(protocol, "market: unknown market", "liquidate", "trader1", "trader0", 5)
    ok(protocol, "deposit", "trader0", 1_000 * USDC)
    ok(protocol, "deposit", "trader1", 1_000 * USDC)
    ok(protocol, "settle_trade", "operator", "trader0", "trader1", 0, 5_000, 10**6, True)
    reverts(protocol, "liquidate: account healthy", "liquidate", "trader1", "trader0", 0)
    reverts(protocol, "adl: no position", "deleverage", "trader1", "trader2", 0)
    reverts(protocol, "adl: account not bankrupt", "deleverage", "trader1", "trader0", 0)
    ok(protocol, "update_price", "oracle", 0, 700_000, 2)  # trader0: -1,500 USDC on 1,000
    reverts(protocol, "adl: insurance fund can cover", "deleverage", "trader2", "trader0", 0)
    ok(protocol, "withdraw_insurance", "owner", 900 * USDC)
    reverts(
        protocol, "liquidate: insurance fund insufficient", "liquidate", "trader1", "trader0", 0
    )


def test_insurance_reasons(protocol):
    reverts(protocol, "insurance: zero amount", "top_up_insurance", "trader0", 0)
    reverts(protocol, "insurance: amount too large", "top_up_insurance", "trader0", 10**15 + 1)
    reverts(protocol, "insurance: zero amount", "withdraw_insurance", "owner", 0)
    reverts(protocol, "insurance: below floor", "withdraw_insurance", "owner", 900 * USDC + 1)
    reverts(protocol, "insurance: below floor", "withdraw_insurance", "owner", UINT_MAX)
    ok(protocol, "withdraw_insurance", "owner", 900 * USDC)
    ok(protocol, "top_up_insurance", "trader3", 5 * USDC)


def test_token_reasons(protocol):
    result = send(protocol, "token", "transferFrom", "outsider", "trader0", "outsider", 1)
    assert result.reason == "token: insufficient allowance"


def test_constructor_bounds_the_liquidator_share(chain):
    owner, oracle, operator = chain.accounts[:3]
    token = chain.deploy(artifacts.load("MockToken").initcode(), owner)
    engine = artifacts.load("PerpEngine")
    with pytest.raises(ChainError, match="config: invalid liquidator share"):
        chain.deploy(engine.initcode(token, oracle, operator, 10**6 + 1, 0), owner)
    chain.deploy(engine.initcode(token, oracle, operator, 10**6, 0), owner)  # 100% is allowed
