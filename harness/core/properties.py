"""Economic properties of the waterfall: the spec's own oracle.

Differential equality cannot see a flaw the spec and the contracts share; these can. Each
property is a sentence in SPEC.md ("Properties") and a check here, run on the spec's
state before and after every successful call (``check_call``) and, at the end of every
sequence, as a liveness drain (``liveness.check_liveness``). They are written without the spec's
helpers: equity, requirements and ranks are recomputed from the raw state with plain
integer arithmetic and exact fractions, and ordering is a plain sort.
"""

from __future__ import annotations

import math
from fractions import Fraction

from harness.core import (
    adl_apportion,
    adl_dodge,
    adl_record,
    adl_rounds,
    adl_shares,
    keeper_reward,
    listing_keys,
    loss_record,
    new_money,
    readable,
)
from harness.core.eip712 import signed_by
from harness.core.invariants import INVARIANTS, check
from harness.core.recompute import (
    capacity,
    equity,
    equity_after_repayment,
    maintenance,
    pnl,
    round_profit,
    size,
)
from pyspec.constants import EXIT_DELAY, EXIT_WINDOW, MAX_MARKETS
from pyspec.state import State

QUEUE = 0

PROPERTIES = {
    "liquidation_targets_unhealthy": "only an account below maintenance is liquidated",
    "liquidation_keeps_solvent": "a liquidation never takes a solvent account below zero",
    "liquidation_pays_liquidator": "every successful liquidation pays its liquidator at "
    "least one unit whenever the penalty and the fund above its floor (less the piece's "
    "deficit) hold one",
    "liquidation_reward_spares_the_floor": "a liquidation's reward never exceeds its penalty "
    "plus what the fund holds above its floor after the piece's deficit: the floor backs "
    "deficits, never a liquidator",
    "liquidation_never_stalls": "with a live oracle, every account below maintenance at "
    "equity >= 0 can be liquidated whatever the insurance fund holds (N5)",
    "escape_only_when_unserved": "an exit's escape settles a market only for the very "
    "position requested (same size and fill stamp), from the request's deadline to its "
    "lapse, when no match was settled and no exit taken since the request (N1)",
    "no_value_on_stale_price": "no market settles at a stale price, and funding never "
    "accrues past the moment a market's price went stale (N3, N4)",
    "withdrawal_order_free": new_money.ORDER_FREE,
    "new_money_backed": new_money.BACKED,
    "new_money_counted": new_money.COUNTED,
    "settlement_after_waterfall": "a market settles only when none of its holders is "
    "bankrupt at the settlement price: every deficit went through the live waterfall "
    "first, so settling instead of deleveraging gains nobody anything (N2)",
    "fund_first": "the fund pays before any trader bears bad debt: a counterparty is "
    "charged only once the fund is empty",
    "adl_closes_exactly": "ADL closes the bankrupt position completely, never more, against "
    "opposite positions of the same market",
    "adl_rank_order": "under the queue, charged counterparties are profitable, in PnL% rank "
    "order, ahead of every uncharged one",
    "adl_pro_rata_shares": "under a pro-rata policy, lots are within one unit of the exact "
    "water-filling by size, charges of the policy's weights under the caps, and both sum "
    "exactly",
    "adl_bankrupt_counterparty_last": "the lots no eligible position takes close against "
    "solvent accounts' positions in holder order, then bankrupt ones': a keeper's order of "
    "two bankrupt accounts on opposite sides of a market cannot move its loss to another "
    "market (issue 19, fifth review)",
    "adl_no_harm": "no counterparty gives up more than its profit, the round's ADL record "
    "included (under the queue, that profit's share of the lots it closes), or ends below "
    "zero equity",
    "adl_keeps_principal": "a charged counterparty's principal (collateral less the round's "
    "ADL record) never falls (net of funding settled and of PnL realized at a delisted "
    "market's final price) and the position it keeps, its record included (the one the "
    "call wrote, also where the call then ended the round), never ends at a loss: however "
    "often it is charged, ADL takes profit only",
    "adl_round_record": adl_record.SENTENCE,
    "adl_round_apportioned": adl_apportion.SENTENCE,
    "adl_records_end_together": adl_record.TOGETHER,
    "adl_record_ends_when_its_holder_acts": adl_record.HOLDER_ACTS,
    "adl_round_ends_at_a_rescuing_price": adl_record.AFTER_A_PRICE,
    "no_profit_from_bankruptcy": "a deleveraged account never ends with positive equity",
    "no_position_after_write_off": "an account whose deficit was written off holds no "
    "position and no collateral but the keeper's reward it earned in the call, unless a "
    "deleverage booked the shortfall of the market it closed: then it holds none in that "
    "market",
    "shortfall_where_it_arose": "a deleverage that leaves the bankrupt account other "
    "positions covers exactly its market's deficit share, floor(equity x loss in the market "
    "/ all its markets' loss), recomputed, and the keeper's reward: by the fund, the "
    "charges and, for what the "
    "market's winners could not pay, bad debt; none of it waits for the other markets' "
    "winners (issue 19, order-free across markets)",
    "trade_keeps_ratio": "a trade by an account below maintenance never lowers its "
    "equity / maintenance ratio",
    "fund_withdrawal_gated": "the fund is not withdrawn while bad debt is known",
    "pause_spares_exits": "in a paused market a trade only shrinks positions, never opens, "
    "grows or flips one",
    "trade_has_consent": "every settled trade fills two orders its buyer and seller signed "
    "(EIP-712, recovered here with eth_account), within both limits, before expiry, at or "
    "above the nonce floor, uncancelled and never beyond the order's size, for the very "
    "listing traded (a market settled since and relisted in its slot is another)",
    "liveness": "with a live oracle, a bounded drain of permissionless calls takes every "
    "account holding positions at or below zero equity to zero positions",
    "changes_only_after_delay": "a role or a live market's parameters change only in a "
    "Governor execution at or after the call's eta, which lies the Governor's delay after "
    "it was scheduled; a market settles only so, or by an unserved exit's escape",
    "exit_at_oracle_price": "a taken exit closes exactly the position its trader asked to "
    "leave, whole, at the oracle price, and nobody else's position but the taker's moves",
    "final_settlement_at_one_price": "every position of a settled market closes whole at "
    "the one price the market settled at",
    "adl_order_free": "the charges each counterparty absorbs for the bankrupt accounts "
    "known at one price do not depend on the order a keeper deleverages them in (two "
    "replayed in both orders, by a keeper or by each account itself: exactly under "
    "pro-rata on profit while the round's charges are its apportionment, but for the "
    "funding units the fund received between the calls, else within a unit per call; "
    "capped rounds included, while no winner's position closes whole before the round's "
    "last call)",
    "adl_monotone_across_calls": "under pro-rata on profit, a round's charges over several "
    "calls are the highest-averages apportionment of their total on the profit each "
    "winner held at the round's start, exactly; under contract pro-rata the same fraction "
    "of each counterparty's size, within a unit per call: a larger winner never pays a "
    "smaller share",
    "attacker_gain_bounded": "in no call does the attacker contract (several calls in one "
    "transaction, no key) gain more over its fair mark-to-market PnL than the liquidation "
    "and keeper rewards it earned in that call, unless its own deficit was written off",
    "listing_key_names_one_listing": "a listing's key is its slot + MAX_MARKETS x "
    "(keccak256(abi.encode(the slot's generation before, its parameters, its asset)) >> "
    "3; the owner's listing into a new slot, the deployment's: the slot), "
    "recomputed with eth_abi: an order or a Governor call made for another listing, settled "
    "or not yet made, never names it (issue 18)",
    "deleverage_pays_keeper": "a deleverage that closes a position holding part of the "
    "deficit (a share that is not zero) pays its caller, unless the caller is the bankrupt "
    "account, a liquidator's reward on that position (the liquidator's share of the fee on "
    "its notional, at least one unit, at most MAX_KEEPER_REWARD and at most the share), "
    "whatever the fund holds: the reward joins the account's deficit (N9)",
    "adl_no_dodge": "once an account is bankrupt, a trade, exit, withdrawal, deposit or "
    "liquidation never lowers what the deleverage of every bankrupt account charges an "
    "acting winner by more than the call cost it, within two units per deleverage, one "
    "for funding, and what the call added to the fund (replayed before and after the "
    "call; a liquidation's two accounts judged in its market)",
    "owed_repaid_first": loss_record.SENTENCE,
}
INVARIANTS.update(PROPERTIES)


# -- per call ---------------------------------------------------------------------------


def check_call(
    fn: str, args: tuple, before: State, after: State, events: list, caller: str
) -> None:
    """Check every property a successful call ``fn`` by ``caller`` (with ``args``,
    addresses resolved) bears on. The others judge the call's core, from ``before``
    with the account's loss repayments applied (M-1)."""
    loss_record.check_call(fn, args, caller, before, after, events)
    before = loss_record.repaid_first(before, events)
    if fn == "settle":
        _check_consent(args, before, after, events)
        _check_trade(before, after, events)
    elif fn == "liquidate":
        _check_liquidations(before, after, events)
    elif fn == "deleverage":
        _check_deleverage(before, after, events)
        keeper_reward.check(caller, args[0], before, after, events)
        if any(name == "Deleverage" for name, _ in events):
            adl_apportion.check(before, events)
            adl_rounds.check_round(before, args[0])
    elif fn == "take_exit":
        _check_exit(args, before, after, events)
    elif fn == "escape":
        _check_escape(args, before)
    adl_dodge.check(fn, args, caller, before, after, events)
    adl_record.check(fn, before, after, events)
    adl_record.check_lifetime(fn, caller, before, after, events)
    _check_stale(before, after, events)
    _check_settlement_solvent(before, events)
    new_money.check_call(fn, caller, args, before, after, events)
    _check_governance(fn, args, before, events)
    listing_keys.check(before, events, direct=fn == "add_market")
    _check_final_settlement(before, after, events)
    # by its event: since N6 the withdrawal runs inside a Governor execution
    if any(name == "InsuranceWithdrawal" for name, _ in events):
        check(
            "fund_withdrawal_gated",
            before.bad_debt == 0
            and all(equity(before, h) >= 0 for m in before.markets for h in m.holders),
            "the fund was withdrawn while bad debt was known",
        )


def _check_liquidations(before: State, after: State, events: list) -> None:
    for name, args in events:
        if name != "Liquidation":
            continue
        account, reward = args[0], args[6]
        equity_before = equity(before, account)
        check(
            "liquidation_targets_unhealthy",
            equity_before < maintenance(before, account),
            f"liquidated {account} at equity {equity_before}",
        )
        if equity_before >= 0:
            check(
                "liquidation_keeps_solvent",
                equity(after, account) >= 0,
                f"liquidation left {account} at {equity(after, account)}",
            )
        # the fund the call saw: before, plus the funding residue its settlements booked,
        # less the piece's deficit it covered, read from its event (a share recomputed
        # from the state before those settlements is off by their rounding)
        cover = sum(a[2] for n, a in events if n == "InsuranceCover" and a[0] == account)
        booked = sum(a[3] for n, a in events if n == "PositionSettled")
        fund = before.insurance_fund + booked - cover
        payable = args[5] + max(fund - before.insurance_floor, 0)
        check(
            "liquidation_pays_liquidator",
            reward > 0 or payable <= 0,
            f"reward {reward} with {payable} payable",
        )
        check(
            "liquidation_reward_spares_the_floor",
            reward <= payable,
            f"reward {reward} beyond the penalty {args[5]} and the fund above its floor "
            f"after the piece's deficit {cover} (fund {before.insurance_fund}, {booked} booked)",
        )


def _check_deleverage(before: State, after: State, events: list) -> None:
    fills = [args for name, args in events if name == "Deleverage"]
    if not fills:
        return
    bankrupt, market_id = fills[0][0], fills[0][2]
    bankrupt_size = size(before, bankrupt, market_id)
    side = 1 if bankrupt_size > 0 else -1
    price = before.markets[market_id].price
    check(
        "adl_closes_exactly",
        equity(before, bankrupt) <= 0
        and sum(f[3] for f in fills) == abs(bankrupt_size)
        and size(after, bankrupt, market_id) == 0
        and all(f[2] == market_id and size(before, f[1], market_id) * side < 0 for f in fills),
        lambda: (
            "fills "
            + "; ".join(readable.event(("Deleverage", f)) for f in fills)
            + f" for a position of {bankrupt_size}"
        ),
    )
    charged = [f for f in fills if f[5] > 0]
    # funding residue a counterparty's settlement books during the call may refill it, and
    # so may a repayment that follows the charges: a keeper or counterparty whose last
    # position the call closed repays what it owed (M-1) after the waterfall ran
    first_fill = next(i for i, (name, _) in enumerate(events) if name == "Deleverage")
    booked = sum(args[3] for name, args in events if name == "PositionSettled") + sum(
        args[1] for name, args in events[first_fill:] if name == "LossRepaid"
    )
    check(
        "fund_first",
        not charged or after.insurance_fund <= booked,
        f"counterparties charged {sum(f[5] for f in charged)} while the fund holds "
        f"{after.insurance_fund} (booked in the call: {booked})",
    )
    policy = before.markets[market_id].adl_policy
    eligible = [
        a
        for a in before.markets[market_id].holders
        if size(before, a, market_id) * side < 0
        and capacity(before, a, market_id) > 0
        and equity_after_repayment(before, a) > 0
    ]
    if policy == QUEUE:
        adl_shares.check_queue(before, market_id, eligible, fills, charged)
    else:
        adl_shares.check_pro_rata(before, market_id, policy, eligible, fills, events)
    adl_shares.check_completion(before, market_id, side, eligible, fills)
    for _, counterparty, _, fill, cash, absorbed in fills:
        profit = max(capacity(before, counterparty, market_id), 0)
        held = abs(size(before, counterparty, market_id))
        capped = absorbed * held <= profit * fill if policy == QUEUE else absorbed <= profit
        check(
            "adl_no_harm",
            cash == side * fill * price + absorbed
            and capped
            and (equity(before, counterparty) < 0 or equity(after, counterparty) >= 0),
            f"{counterparty}: fill {fill}, absorbed {absorbed}, profit {profit}, equity "
            f"{equity(before, counterparty)} -> {equity(after, counterparty)}",
        )
    funding = {}  # funding settled, and PnL realized at a delisted market's final price
    for name, args in events:
        if name == "PositionSettled":
            funding[args[0]] = funding.get(args[0], 0) + args[2]
        elif name == "PositionSettledAtPrice":
            account, settled_market, lots, final = args
            entry = before.accounts[account].positions[settled_market].entry_notional
            funding[account] = funding.get(account, 0) + lots * final - entry
    for _, counterparty, _, _, _, absorbed in fills:
        if absorbed <= 0:
            continue
        kept = size(after, counterparty, market_id)
        # principal: collateral less the round's ADL record, the profit a charge may take
        collateral_before = before.accounts[counterparty].collateral - round_profit(
            before, counterparty, market_id
        )
        # the record this call wrote, live or ended by the call (its deficit resolved)
        kept_position = after.accounts[counterparty].positions.get(market_id)
        record = kept_position.adl_profit if kept_position else 0
        collateral_after = after.accounts[counterparty].collateral - record
        left = pnl(after, counterparty, market_id) + record if kept else 0
        check(
            "adl_keeps_principal",
            collateral_after >= collateral_before + funding.get(counterparty, 0) and left >= 0,
            f"{counterparty}: collateral {collateral_before} -> {collateral_after} (funding "
            f"{funding.get(counterparty, 0)}), kept {kept} lots at {left} with its record",
        )
    check(
        "no_profit_from_bankruptcy",
        equity(after, bankrupt) <= 0,
        f"{bankrupt} ends at equity {equity(after, bankrupt)}",
    )
    left = after.accounts[bankrupt].positions
    rewards = {a[0]: a[2] for name, a in events if name == "KeeperReward"}
    for name, args in events:
        if name == "BadDebt":
            written_off = after.accounts[args[0]]
            shortfall = args[0] == bankrupt and market_id not in left
            # a keeper whose losing position the call closed and wrote off keeps its
            # reward: new money after the write-off (N9, as a record ends first: M-1)
            kept = rewards.get(args[0], 0)
            check(
                "no_position_after_write_off",
                (not written_off.positions and written_off.collateral == kept) or shortfall,
                f"{args[0]} written off with positions {written_off.positions} and "
                f"collateral {written_off.collateral} (its keeper's reward {kept})",
            )
    if left:
        _check_shortfall(before, bankrupt, market_id, fills, events)


def _check_shortfall(before: State, bankrupt: str, market_id: int, fills, events) -> None:
    """The closed market's deficit share, recomputed from each market's unrealized loss,
    and the keeper's reward it owes (N9; its amount is ``keeper_reward.check``'s) are
    covered whole in the call: by the fund, the charges and the bad debt booked."""
    losses = {m: max(-pnl(before, bankrupt, m), 0) for m in before.accounts[bankrupt].positions}
    weight, total = (losses[market_id], sum(losses.values())) if any(losses.values()) else (1, 1)
    share = math.floor(Fraction(equity(before, bankrupt) * weight, total))
    paid = sum(f[5] for f in fills) + sum(
        args[-1]
        for name, args in events
        if name in ("InsuranceCover", "BadDebt") and args[0] == bankrupt
    )
    reward = sum(a[2] for name, a in events if name == "KeeperReward" and a[1] == bankrupt)
    check(
        "shortfall_where_it_arose",
        paid == max(-share, 0) + reward,
        f"{bankrupt}'s deficit share in market {market_id} is {-share} (losses {losses}) "
        f"and its keeper's reward {reward}; the call covered {paid} and left positions in "
        f"{sorted(losses)}",
    )


ROLE_EVENTS = frozenset({"OracleSet", "GuardianSet", "OperatorSet"})


def _check_governance(fn: str, args: tuple, before: State, events: list) -> None:
    names = [name for name, _ in events]
    changed = ROLE_EVENTS.intersection(names) or ("MarketParamsSet" in names and fn != "add_market")
    settled = "MarketSettled" in names
    if fn == "execute":
        timelock = before.timelock
        scheduled = [a for n, a in events if n == "CallExecuted"]
        check("changes_only_after_delay", len(scheduled) == 1, f"execute logged {scheduled}")
        eta = timelock.eta.get(scheduled[0][0])
        check(
            "changes_only_after_delay",
            eta is not None and before.timestamp >= eta,
            f"executed at {before.timestamp}, eta {eta}",
        )
        return
    check(
        "changes_only_after_delay",
        not changed and (not settled or fn == "escape"),
        lambda: f"{fn} changed a role, a parameter or a market's status: {names}",
    )


def _check_exit(args: tuple, before: State, after: State, events: list) -> None:
    trader, market_id = args
    size, _, _ = before.book.exit_requests[(trader, market_id)]
    trade = next(a for n, a in events if n == "Trade")
    taker = trade[0] if trade[1] == trader else trade[1]
    check(
        "exit_at_oracle_price",
        trade[2] == market_id
        and trade[3] == abs(size)
        and trade[4] == before.markets[market_id].price
        and trader in trade[:2]
        and (trade[1] == trader) == (size > 0),
        lambda: f"exit of {size} lots traded as {readable.event(('Trade', trade))}",
    )
    for address in {*before.accounts, *after.accounts} - {trader, taker}:
        check(
            "exit_at_oracle_price",
            _sizes(before, address) == _sizes(after, address),
            f"{address}'s positions moved in an exit",
        )
    check("exit_at_oracle_price", _sizes(after, trader).get(market_id, 0) == 0, "exit left lots")


def _check_escape(args: tuple, before: State) -> None:
    trader, market_id = args
    lots, stamp, deadline = before.book.exit_requests[(trader, market_id)]
    account = before.accounts.get(trader)
    position = account.positions.get(market_id) if account else None
    requested_at = deadline - EXIT_DELAY
    check(
        "escape_only_when_unserved",
        position is not None
        and (position.size, position.last_fill) == (lots, stamp)
        and deadline <= before.timestamp <= deadline + EXIT_WINDOW
        and before.book.last_trade_time < requested_at,
        f"escaped {trader}'s request {(lots, stamp, deadline)} at {before.timestamp}: "
        f"position {position}, last trade {before.book.last_trade_time}",
    )


def _check_settlement_solvent(before: State, events: list) -> None:
    for name, args in events:
        if name != "MarketSettled":
            continue
        bankrupt = [h for h in before.markets[args[0]].holders if equity(before, h) < 0]
        check(
            "settlement_after_waterfall",
            not bankrupt,
            f"market {args[0]} settled at {args[1]} over bankrupt holders {bankrupt}",
        )


def _check_stale(before: State, after: State, events: list) -> None:
    """Funding index and settlement of every market against its price's expiry, recomputed
    from the fields before the call."""
    now = after.timestamp
    for market_id, (old, new) in enumerate(zip(before.markets, after.markets, strict=False)):
        expiry = old.price_timestamp + old.max_price_age
        if old.settled or now <= expiry:
            continue
        check(
            "no_value_on_stale_price",
            not new.settled,
            f"market {market_id} settled at a price {now - old.price_timestamp} s old",
        )
        accrued = (
            old.funding_index
            + old.funding_rate * max(expiry - old.funding_timestamp, 0) * old.price
        )
        check(
            "no_value_on_stale_price",
            new.funding_index in (old.funding_index, accrued),
            f"market {market_id}: funding index {old.funding_index} -> {new.funding_index} "
            f"with the price stale since {expiry} (at most {accrued})",
        )


def _sizes(state: State, address: str) -> dict[int, int]:
    account = state.accounts.get(address)
    return {m: p.size for m, p in account.positions.items() if p.size} if account else {}


def _check_final_settlement(before: State, after: State, events: list) -> None:
    settled = [args for name, args in events if name == "PositionSettledAtPrice"]
    for account, market_id, lots, price in settled:
        market = before.markets[market_id]
        check(
            "final_settlement_at_one_price",
            market.settled
            and price == market.price
            and lots == size(before, account, market_id)
            and size(after, account, market_id) == 0,
            f"{account}: {lots} lots of market {market_id} settled at {price}",
        )


def _check_trade(before: State, after: State, events: list) -> None:
    buyer, seller, market_id = events[-1][1][:3]
    for address in (buyer, seller):
        if before.markets[market_id].paused:
            held = before.accounts.get(address)
            old = held.positions[market_id].size if held and market_id in held.positions else 0
            new = after.accounts[address].positions.get(market_id)
            new = new.size if new else 0
            check(
                "pause_spares_exits",
                abs(new) < abs(old) and new * old >= 0,
                f"{address}: {old} -> {new} lots in paused market {market_id}",
            )
        e0, m0 = equity(before, address), maintenance(before, address)
        if e0 < m0:
            e1, m1 = equity(after, address), maintenance(after, address)
            check(
                "trade_keeps_ratio",
                e1 * m0 >= e0 * m1,
                f"{address}: equity/maintenance {e0}/{m0} -> {e1}/{m1}",
            )


def _check_consent(args: tuple, before: State, after: State, events: list) -> None:
    maker, maker_signature, taker, taker_signature, size, price = args
    book = after.book
    traders = {}
    for order, signature in ((maker, maker_signature), (taker, taker_signature)):
        trader, market, is_buy, order_size, limit, _, nonce, expiry = order
        digest, signer = signed_by(book.address, book.chain_id, tuple(order), signature)
        within = price <= limit if is_buy else price >= limit
        filled = book.filled.get(digest, 0)
        check(
            "trade_has_consent",
            signer == trader
            and within
            and after.timestamp <= expiry
            and nonce >= before.book.min_nonce.get(trader, 0)
            and not before.book.cancelled.get(digest, False)
            and filled == before.book.filled.get(digest, 0) + size <= order_size,
            lambda order=order, signer=signer, filled=filled: (
                f"order {readable.order(order)} (signer {signer}): filled {filled} at {price}"
            ),
        )
        traders[is_buy] = trader
    trade = next(args for name, args in events if name == "Trade")
    # the orders name the very listing traded: its slot and the slot's generation then
    slot = trade[2]
    listing = slot + MAX_MARKETS * before.markets[slot].generation
    check(
        "trade_has_consent",
        trade[:5] == (traders[True], traders[False], slot, size, price) and maker[1] == listing,
        lambda: f"trade {readable.event(('Trade', trade))} is not the signed match",
    )
