"""Named waterfall scenarios, run on spec and chain step by step (Protocol.apply compares
state, reverts and events after every call) on each chain."""

from harness.coverage import WATERFALL_BRANCHES, branches
from harness.protocol import Call
from pyspec import margin

USDC = 10**6


class Script:
    def __init__(self, protocol):
        self.p = protocol
        self.taken: list[str] = []
        self.clock = {0: 1, 1: 1}

    def __call__(self, fn, sender, *args, target="engine"):
        before = self.p.state.copy()
        outcome = self.p.apply(Call(target, fn, sender, args))
        taken = branches(before, outcome.events) if outcome.success else []
        self.taken += [b for b in taken if b in WATERFALL_BRANCHES]
        return outcome

    def ok(self, fn, sender, *args):
        outcome = self(fn, sender, *args)
        assert outcome.success, outcome.reason
        return outcome

    def price(self, market_id, price):
        self.clock[market_id] += 1
        return self.ok("update_price", "oracle", market_id, price, self.clock[market_id])

    def equity(self, who):
        return margin.equity(self.p.state, self.p.address(who))

    def size(self, who, market_id=0):
        account = self.p.state.accounts.get(self.p.address(who))
        position = account.positions.get(market_id) if account else None
        return position.size if position else 0


def test_flash_crash_cascading_liquidations(protocol):
    s = Script(protocol)
    for trader, amount in [("trader0", 10_000), ("trader1", 10_000), ("trader2", 10_000)]:
        s.ok("deposit", trader, amount * USDC)
    for trader in ("trader3", "trader4", "trader5"):
        s.ok("deposit", trader, 40_000 * USDC)
    s.ok("settle_trade", "operator", "trader0", "trader3", 0, 90_000, 10**6, True)  # 9x
    s.ok("settle_trade", "operator", "trader1", "trader4", 0, 80_000, 10**6, True)  # 8x
    s.ok("settle_trade", "operator", "trader2", "trader5", 0, 60_000, 10**6, True)  # 6x
    s.price(0, 900_000)  # -10%: the two most leveraged fall below maintenance
    for target in ("trader0", "trader1"):
        s.ok("liquidate", "trader3", target, 0)
    assert s.taken.count("liquidation.partial") == 2
    assert s(*("liquidate", "trader3", "trader2", 0)).reason == "liquidate: account healthy"
    s.price(0, 850_000)  # the cascade reaches the next tier
    s.ok("liquidate", "trader4", "trader2", 0)
    assert len(s.taken) == 3
    s.price(0, 800_000)  # through bankruptcy: the fund covers what it can, ADL the rest
    fund = protocol.state.insurance_fund
    for target in ("trader0", "trader2"):
        s.ok("liquidate", "trader5", target, 0)
    assert s.taken.count("insurance.covers") == 2
    assert protocol.state.insurance_fund < fund
    assert (
        s("liquidate", "trader5", "trader1", 0).reason == "liquidate: insurance fund insufficient"
    )
    s.ok("deleverage", "outsider", "trader1", 0)
    assert any(b.startswith("adl.") for b in s.taken)
    for target in ("trader0", "trader1", "trader2"):
        assert s.size(target) == 0 and s.equity(target) == 0


def test_insurance_fund_drained_into_adl(protocol):
    s = Script(protocol)
    s.ok("deposit", "trader0", 1_000 * USDC)
    for trader, amount in (("trader1", 20_000), ("trader2", 20_000), ("trader3", 1_000)):
        s.ok("deposit", trader, amount * USDC)
    s.ok("settle_trade", "operator", "trader0", "trader1", 0, 5_000, 10**6, True)
    s.ok("settle_trade", "operator", "trader0", "trader2", 0, 4_000, 10**6, True)
    s.ok("settle_trade", "operator", "trader0", "trader3", 0, 700, 1_020_000, True)
    s.ok("withdraw_insurance", "owner", 900 * USDC)  # fund down to its floor
    s.price(0, 700_000)  # trader0 is bankrupt: -2,910 USDC on 1,000
    assert s.equity("trader0") < 0
    assert (
        s("liquidate", "trader1", "trader0", 0).reason == "liquidate: insurance fund insufficient"
    )
    outcome = s.ok("deleverage", "outsider", "trader0", 0)
    fills = [args for name, args in outcome.events if name == "Deleverage"]
    # rank = PnL% x leverage: trader3 (small account, sold highest) first, then the larger
    # of the two equal-PnL% shorts (higher leverage)
    assert [protocol.names[f[1]] for f in fills] == ["trader3", "trader1", "trader2"]
    assert sum(f[3] for f in fills) == 9_700  # exactly the bankrupt size, no overshoot
    assert "adl.several_counterparties" in s.taken
    assert s.size("trader0") == 0 and s.equity("trader0") == 0


def test_adl_without_profitable_counterparty_socializes_the_loss(protocol):
    s = Script(protocol)
    s.ok("deposit", "trader0", 1_000 * USDC)
    for trader in ("trader1", "trader2"):
        s.ok("deposit", trader, 20_000 * USDC)
    s.ok("settle_trade", "operator", "trader0", "trader1", 0, 9_000, 10**6, True)
    s.ok("withdraw_insurance", "owner", 900 * USDC)
    s.price(0, 500_000)  # trader0 bankrupt; trader1's short is profitable
    s.ok(
        "settle_trade", "operator", "trader1", "trader2", 0, 9_000, 500_000, True
    )  # trader2 takes it over
    deficit = -s.equity("trader0")  # shorts now: trader2 at 0.5, not profitable
    assert deficit > 0
    outcome = s.ok("deleverage", "trader1", "trader0", 0)
    assert [name for name, _ in outcome.events if name == "Deleverage"] == []
    assert "socialized_loss" in s.taken
    loss = next(args for name, args in outcome.events if name == "SocializedLoss")
    assert loss[2] == deficit  # the whole deficit, exactly
    assert s.equity("trader0") == 0 and s.size("trader0") == 9_000
    # trader2 carries it, charged per lot through the loss index when next touched
    trade_fee = 9_000 * 500_000 * 200 // 10**6  # trader2 was the maker
    assert s.equity("trader2") == 20_000 * USDC - trade_fee - loss[3] * 9_000
    s.ok("liquidate", "trader1", "trader0", 0)  # zero equity: closed without penalty
    assert s.size("trader0") == 0 and s.equity("trader0") == 0


def test_funding_flows_from_longs_to_shorts_and_fees_to_the_fund(protocol):
    s = Script(protocol)
    for trader in ("trader0", "trader1"):
        s.ok("deposit", trader, 10_000 * USDC)
    fund = protocol.state.insurance_fund
    trade = s.ok("settle_trade", "operator", "trader0", "trader1", 0, 4_000, 10**6, True)
    _, _, _, _, _, buyer_fee, seller_fee = trade.events[-1][1]
    assert (buyer_fee, seller_fee) == (2 * USDC, 800_000)  # taker 0.05%, maker 0.02%
    assert protocol.state.insurance_fund == fund + buyer_fee + seller_fee
    clamped = s.ok("update_funding", "operator", 0, 10**6)  # 100%: clamped to 0.5%
    assert clamped.events[-1][1] == (0, 10**6, 5_000, 5_000, 5_000)
    long_equity, short_equity = s.equity("trader0"), s.equity("trader1")
    s.ok("update_funding", "operator", 0, -2_000)  # shorts pay 0.2% now
    assert s.equity("trader0") == long_equity + 4_000 * 2_000
    assert s.equity("trader1") == short_equity - 4_000 * 2_000
    settled = s.ok("deposit", "trader1", 1)  # touching the account settles its funding
    assert settled.events[0] == (
        "PositionSettled",
        (protocol.address("trader1"), 0, 4_000 * (5_000 - 2_000), 0),
    )
