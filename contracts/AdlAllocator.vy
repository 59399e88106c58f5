# pragma version ~=0.4.3
# pragma optimize codesize
"""
@title ADL allocation policies and listing bounds
@notice Spec: `pyspec/adl_allocator.py` (and `governance._check_params` for
        `check_market_params`, kept here out of the engine's EIP-170 budget). Stateless:
        the engine passes one side of a market (`Holder`s in holder order) and receives
        the fills closing a bankrupt position: the lots each counterparty takes over and
        the part of the deficit it absorbs.
        Eligible positions (profitable, on an account with positive equity) are filled
        under the market's policy, then every other one at the oracle price, uncharged:
        solvent accounts' in holder order, then bankrupt ones'. Charges never exceed a
        counterparty's cap.
        Policies: ADL_POLICY_QUEUE (PnL% rank, pro-rata share of the lots taken, capped at
        their profit and equity share); ADL_POLICY_PNL_PRO_RATA (what the round's
        apportionment by the highest averages on the profit held at the round's start adds,
        capped at min(upnl, equity)); ADL_POLICY_LEVERAGE_PRO_RATA and
        ADL_POLICY_CONTRACT_PRO_RATA (charges water-filled with weights upnl x leverage and
        |size|, capped at min(upnl, equity)); lots water-filled by |size| under every
        policy, so each eligible position closes the same fraction.
"""

import lib.constants as constants
import lib.fixed_math as fixed_math
import engine.liquidation as liquidation

N: constant(uint256) = constants.MAX_POSITIONS_PER_MARKET


struct Holder:
    account: address
    # |size| in lots
    size: int256
    # Unrealized PnL at the oracle price.
    upnl: int256
    # |entry notional|
    entry: int256
    # The account's equity and maintenance requirement, all markets.
    equity: int256
    maintenance: int256
    # What ADL charged the position in its side's round so far (issue 19).
    paid: int256


struct Fill:
    counterparty: address
    size: int256
    absorbed: int256


struct MarketParams:
    initial_margin_ratio: uint256
    maintenance_margin_ratio: uint256
    liquidation_fee_ratio: uint256
    price_band_ratio: uint256
    max_funding_rate: uint256
    maker_fee_ratio: uint256
    taker_fee_ratio: uint256
    adl_policy: uint256
    max_price_age: uint256
    min_position_notional: uint256


@external
@pure
def liquidation_terms(
    equity: int256,
    maintenance: int256,
    abs_size: int256,
    price: uint256,
    maintenance_ratio: uint256,
    fee_ratio: uint256,
    liquidator_share_ratio: uint256,
    max_size: uint256,
) -> (int256, int256, int256, int256):
    """
    @notice (lots, equity share, penalty, reward) of a liquidation, for the engine (out of
            its EIP-170 budget). Spec: `liquidation.compute_liquidation_terms`.
    """
    return liquidation.compute_liquidation_terms(
        equity,
        maintenance,
        abs_size,
        price,
        maintenance_ratio,
        fee_ratio,
        liquidator_share_ratio,
        max_size,
    )


@external
@pure
def check_market_params(params: MarketParams) -> bool:
    """
    @notice The bounds every listing and every parameter change keeps; true, or a revert
            with the reason, which the engine's call passes on. Spec: `governance._check_params`.
    """
    assert (
        0 < params.maintenance_margin_ratio
        and params.maintenance_margin_ratio < params.initial_margin_ratio
        and params.initial_margin_ratio <= convert(constants.RATIO_PRECISION, uint256)
    ), "market: invalid margin ratios"
    assert (
        params.liquidation_fee_ratio < params.maintenance_margin_ratio
    ), "market: invalid liquidation fee"
    assert (
        0 < params.price_band_ratio
        and params.price_band_ratio <= convert(constants.RATIO_PRECISION, uint256)
    ), "market: invalid price band"
    assert params.max_funding_rate <= constants.MAX_FUNDING_RATE, "market: invalid funding bound"
    assert (
        params.maker_fee_ratio <= constants.MAX_FEE_RATIO
        and params.taker_fee_ratio <= constants.MAX_FEE_RATIO
    ), "market: invalid fees"
    assert params.adl_policy < constants.ADL_POLICY_COUNT, "market: invalid adl policy"
    assert (
        0 < params.max_price_age and params.max_price_age <= constants.MAX_PRICE_AGE
    ), "market: invalid price age"
    assert (
        params.min_position_notional <= constants.MAX_MIN_POSITION_NOTIONAL
    ), "market: invalid minimum notional"
    return True


@internal
@pure
def _is_eligible(holder: Holder) -> bool:
    """
    @notice Profitable, on an account with positive equity. Spec: `adl_allocator.is_eligible`.
    """
    return holder.upnl > 0 and holder.equity > 0


@internal
@pure
def _queue_order(holders: DynArray[Holder, N]) -> DynArray[Holder, N]:
    """
    @notice The eligible holders in queue order: selection of the best remaining, the one
            with the higher PnL% = upnl / |entry notional| (cross-multiplied), or an equal
            one and the lower address. The comparison runs inline on the best's fields
            held on the stack (each pass compares every remaining candidate with the best
            so far: a call per comparison cost more than the comparison); each pick leaves
            the scan, the last candidate taking its place, which changes the scan's order
            but not the pick, the ranks being a strict order on distinct accounts.
            Spec: `adl_allocator.queue_order`, `adl_allocator.ranks_before`.
    """
    found: DynArray[Holder, N] = []
    upnls: int256[N] = empty(int256[N])
    entries: int256[N] = empty(int256[N])
    accounts: uint256[N] = empty(uint256[N])
    indices: uint256[N] = empty(uint256[N])
    m: uint256 = 0
    for holder: Holder in holders:
        if self._is_eligible(holder):
            upnls[m] = holder.upnl
            entries[m] = holder.entry
            accounts[m] = convert(holder.account, uint256)
            indices[m] = m
            found.append(holder)
            m += 1
    ordered: DynArray[Holder, N] = []
    for _: uint256 in range(m, bound=N):
        best: uint256 = 0
        best_upnl: int256 = upnls[0]
        best_entry: int256 = entries[0]
        best_account: uint256 = accounts[0]
        for i: uint256 in range(1, m, bound=N):
            left: int256 = upnls[i] * best_entry
            right: int256 = best_upnl * entries[i]
            if left > right or (left == right and accounts[i] < best_account):
                best = i
                best_upnl = upnls[i]
                best_entry = entries[i]
                best_account = accounts[i]
        ordered.append(found[indices[best]])
        m -= 1
        upnls[best] = upnls[m]
        entries[best] = entries[m]
        accounts[best] = accounts[m]
        indices[best] = indices[m]
    return ordered


@internal
@pure
def compute_adl_quantile(quantity_before: int256, total_quantity: int256) -> uint256:
    """
    @notice Return ADL_QUANTILES - floor(ADL_QUANTILES x before / total); 5 = first in line.
            Spec: `adl_allocator.compute_adl_quantile`.
    """
    return constants.ADL_QUANTILES - convert(
        fixed_math.floor_div(
            convert(constants.ADL_QUANTILES, int256) * quantity_before, total_quantity
        ),
        uint256,
    )


@external
@pure
def queue_quantile(holders: DynArray[Holder, N], account: address) -> uint256:
    """
    @notice The queue light of `account` among one side's holders: 5 to 1 when eligible,
            1 otherwise. Spec: `adl_allocator.queue_quantile`.
    """
    ordered: DynArray[Holder, N] = self._queue_order(holders)
    total: int256 = 0
    for holder: Holder in ordered:
        total += holder.size
    ahead: int256 = 0
    for holder: Holder in ordered:
        if holder.account == account:
            return self.compute_adl_quantile(ahead, total)
        ahead += holder.size
    return 1


@internal
@pure
def compute_deficit_share(
    loss: int256, filled_before: int256, filled_after: int256, size: int256
) -> int256:
    """
    @notice A fill's pro-rata share of `loss`, cumulative and floored, so the shares of
            fills covering the whole size sum to `loss`. Spec: `adl_allocator.compute_deficit_share`.
    """
    return fixed_math.floor_div(loss * filled_after, size) - fixed_math.floor_div(
        loss * filled_before, size
    )


@internal
@pure
def compute_absorb_cap(
    upnl: int256,
    fill: int256,
    abs_size: int256,
    account_equity: int256,
    maintenance_delta: int256,
    maintenance: int256,
) -> int256:
    """
    @notice max(min(floor(upnl x fill / size), floor(equity x DMMR / TMMR)), 0): at most
            the profit of the closed lots, never below zero equity.
            Spec: `adl_allocator.compute_absorb_cap`.
    """
    profit: int256 = fixed_math.floor_div(upnl * fill, abs_size)
    return max(
        min(profit, liquidation.compute_equity_share(account_equity, maintenance_delta, maintenance)),
        0,
    )


@internal
@pure
def _requirement(size: int256, price: int256, ratio: int256) -> int256:
    # margin.compute_margin_requirement (that module keeps storage; this contract has none)
    return fixed_math.ceil_div(size * price * ratio, constants.RATIO_PRECISION)


@internal
@pure
def compute_capacity(holder: Holder) -> int256:
    """
    @notice What a pro-rata policy may charge: min(upnl, equity).
            Spec: `adl_allocator.compute_capacity`.
    """
    return min(holder.upnl, holder.equity)


@internal
@pure
def compute_weight(policy: uint256, holder: Holder, price: int256) -> int256:
    """
    @notice An eligible holder's weight under leverage or contract pro-rata: upnl x
            leverage (floor(|size| x price x RATIO_PRECISION / equity) clamped to [1,
            MAX_ADL_LEVERAGE]), or |size| (pro-rata on profit weighs by the round's bases,
            `_round_charges`). Spec: `adl_allocator.compute_weight`.
    """
    if policy == constants.ADL_POLICY_LEVERAGE_PRO_RATA:
        leverage: int256 = fixed_math.floor_div(
            holder.size * price * constants.RATIO_PRECISION, holder.equity
        )
        return holder.upnl * min(max(leverage, 1), constants.MAX_ADL_LEVERAGE)
    return holder.size


@internal
@pure
def _saturate(
    weights: DynArray[int256, N], caps: DynArray[int256, N], budget: int256
) -> (DynArray[int256, N], bool[N], int256, int256):
    """
    @notice The passes `water_fill` and `apportion` share: each gives every share reaching
            its cap at the current level (budget x w >= cap x W) its cap, and repeats
            without them until none does. Returns the shares, the accounts left, the
            budget left for them and their total weight (0 when none is left).
            Spec: `adl_allocator._saturate`.
    """
    n: uint256 = len(weights)
    shares: DynArray[int256, N] = []
    active: bool[N] = empty(bool[N])
    for i: uint256 in range(n, bound=N):
        shares.append(0)
        active[i] = weights[i] > 0 and caps[i] > 0
    remaining: int256 = budget
    for _: uint256 in range(n + 1, bound=N + 1):
        if remaining <= 0:
            break
        total: int256 = 0
        for i: uint256 in range(n, bound=N):
            if active[i]:
                total += weights[i]
        if total == 0:
            break
        saturated: bool[N] = empty(bool[N])
        spent: int256 = 0
        for i: uint256 in range(n, bound=N):
            if active[i] and remaining * weights[i] >= caps[i] * total:
                saturated[i] = True
                shares[i] = caps[i]
                spent += caps[i]
        if spent == 0:
            return shares, active, remaining, total
        remaining -= spent
        for i: uint256 in range(n, bound=N):
            if saturated[i]:
                active[i] = False
    return shares, empty(bool[N]), 0, 0


@internal
@pure
def water_fill(
    weights: DynArray[int256, N],
    caps: DynArray[int256, N],
    accounts: DynArray[address, N],
    budget: int256,
) -> DynArray[int256, N]:
    """
    @notice Split `budget` in proportion to `weights` under `caps`, summing to
            min(budget, sum caps) exactly: passes saturate every share reaching its cap
            (budget x w >= cap x W); the last floors the shares and hands the remainder
            out by largest fractional part, equal parts to the lower address.
            Spec: `adl_allocator.water_fill`.
    """
    n: uint256 = len(weights)
    shares: DynArray[int256, N] = []
    active: bool[N] = empty(bool[N])
    remaining: int256 = 0
    total: int256 = 0
    shares, active, remaining, total = self._saturate(weights, caps, budget)
    if total == 0:
        return shares
    # the last pass floors every share; the remainder goes one unit each to the
    # `left` largest fractional parts, equal parts to the lower address. The parts sum
    # to left x total and each is below total, so when a unit is left more than `left`
    # are positive and a zero part never gets a unit. The selection scans the positive parts as plain
    # words and drops each it picks; when more than half get a unit it picks out the
    # others instead (parts and addresses negated: the smallest part, the higher
    # address) and gives a unit to every part left
    parts: int256[N] = empty(int256[N])
    addresses: uint256[N] = empty(uint256[N])
    owners: uint256[N] = empty(uint256[N])
    m: uint256 = 0
    left: int256 = remaining
    for i: uint256 in range(n, bound=N):
        if active[i]:
            shares[i] = fixed_math.floor_div(remaining * weights[i], total)
            left -= shares[i]
            part: int256 = remaining * weights[i] - shares[i] * total
            if part > 0:
                parts[m] = part
                addresses[m] = convert(accounts[i], uint256)
                owners[m] = i
                m += 1
    picks: uint256 = convert(left, uint256)
    complement: bool = 2 * picks > m
    if complement:
        picks = m - picks
        for j: uint256 in range(m, bound=N):
            parts[j] = -parts[j]
            addresses[j] = max_value(uint256) - addresses[j]
    for _k: uint256 in range(picks, bound=N):
        best: uint256 = 0
        best_part: int256 = parts[0]
        best_address: uint256 = addresses[0]
        for j: uint256 in range(1, m, bound=N):
            part: int256 = parts[j]
            if part > best_part or (part == best_part and addresses[j] < best_address):
                best = j
                best_part = part
                best_address = addresses[j]
        if not complement:
            shares[owners[best]] += 1
        m -= 1
        parts[best] = parts[m]
        addresses[best] = addresses[m]
        owners[best] = owners[m]
    if complement:
        for j: uint256 in range(m, bound=N):
            shares[owners[j]] += 1
    return shares


@internal
@pure
def apportion(
    weights: DynArray[int256, N],
    caps: DynArray[int256, N],
    accounts: DynArray[address, N],
    budget: int256,
) -> DynArray[int256, N]:
    """
    @notice Split `budget` in proportion to `weights` under `caps` by the highest averages
            (D'Hondt): the shares count the first min(budget, sum caps) thresholds
            k / weight (k = 1 .. cap) in increasing order, equal thresholds to the lower
            address, so no share falls when the budget grows. After the saturating passes,
            every share floors at the level and the rest goes one unit at a time to the
            smallest next threshold (share + 1) / weight, cross-multiplied.
            Spec: `adl_allocator.apportion`.
    """
    n: uint256 = len(weights)
    shares: DynArray[int256, N] = []
    active: bool[N] = empty(bool[N])
    remaining: int256 = 0
    total: int256 = 0
    shares, active, remaining, total = self._saturate(weights, caps, budget)
    if total == 0:
        return shares
    # every share floors at the level; the units left go one at a time to the smallest
    # next threshold (share + 1) / w = remaining / total + key / (total x w), key = total x
    # (units taken + 1) - the part (remaining x w - share x total): the candidates' keys,
    # weights and addresses as plain words, and each that reaches its cap dropped
    keys: uint256[N] = empty(uint256[N])
    units: uint256[N] = empty(uint256[N])
    addresses: uint256[N] = empty(uint256[N])
    owners: uint256[N] = empty(uint256[N])
    room: uint256[N] = empty(uint256[N])
    m: uint256 = 0
    left: int256 = remaining
    for i: uint256 in range(n, bound=N):
        if active[i]:
            share: int256 = fixed_math.floor_div(remaining * weights[i], total)
            shares[i] = share
            left -= share
            keys[m] = convert(total - (remaining * weights[i] - share * total), uint256)
            units[m] = convert(weights[i], uint256)
            addresses[m] = convert(accounts[i], uint256)
            owners[m] = i
            room[m] = convert(caps[i] - share, uint256)
            m += 1
    step: uint256 = convert(total, uint256)
    for _k: uint256 in range(convert(left, uint256), bound=N):
        best: uint256 = 0
        best_key: uint256 = keys[0]
        best_unit: uint256 = units[0]
        for j: uint256 in range(1, m, bound=N):
            # keys stay below 2^91 (32 totals below 2^86), weights below 2^81: no overflow
            here: uint256 = unsafe_mul(keys[j], best_unit)
            there: uint256 = unsafe_mul(best_key, units[j])
            if here < there or (here == there and addresses[j] < addresses[best]):
                best = j
                best_key = keys[j]
                best_unit = units[j]
        shares[owners[best]] += 1
        keys[best] = best_key + step
        room[best] -= 1
        if room[best] == 0:
            m -= 1
            keys[best] = keys[m]
            units[best] = units[m]
            addresses[best] = addresses[m]
            owners[best] = owners[m]
            room[best] = room[m]
    return shares


@internal
@pure
def _round_charges(
    bases: DynArray[int256, N],
    caps: DynArray[int256, N],
    paid: DynArray[int256, N],
    accounts: DynArray[address, N],
    loss: int256,
) -> DynArray[int256, N]:
    """
    @notice What one call charges the eligible holders under pro-rata on profit: what the
            apportionment of the round's total (what it charged so far, plus `loss`) adds
            to what each paid, on its profit at the round's start (`bases`) under its
            round cap (`caps`: paid plus min(capacity, equity)); when the price moved
            within the round and a holder paid more than its apportionment, what the
            apportionment adds between the totals before and after, within the holder's
            cap, and what a cap cut water-filled by base over the others' room left.
            Spec: `adl_allocator.round_charges`.
    """
    before: int256 = 0
    for amount: int256 in paid:
        before += amount
    after: DynArray[int256, N] = self.apportion(bases, caps, accounts, before + loss)
    charges: DynArray[int256, N] = []
    moved: bool = False
    for i: uint256 in range(len(paid), bound=N):
        charges.append(after[i] - paid[i])
        moved = moved or charges[i] < 0
    if moved:
        earlier: DynArray[int256, N] = self.apportion(bases, caps, accounts, before)
        left: DynArray[int256, N] = []
        short: int256 = loss
        for i: uint256 in range(len(paid), bound=N):
            charges[i] = min(after[i] - earlier[i], caps[i] - paid[i])
            left.append(caps[i] - paid[i] - charges[i])
            short -= charges[i]
        # what a cap cut goes to the others' room left, by base
        extra: DynArray[int256, N] = self.water_fill(bases, left, accounts, short)
        for i: uint256 in range(len(paid), bound=N):
            charges[i] += extra[i]
    return charges


@internal
@pure
def _allocate_queue(
    price: int256, mmr: int256, holders: DynArray[Holder, N], size: int256, loss: int256
) -> DynArray[Fill, N]:
    fills: DynArray[Fill, N] = []
    filled: int256 = 0
    ordered: DynArray[Holder, N] = self._queue_order(holders)
    for holder: Holder in ordered:
        if filled == size:
            break
        fill: int256 = min(size - filled, holder.size)
        delta: int256 = self._requirement(holder.size, price, mmr) - self._requirement(
            holder.size - fill, price, mmr
        )
        cap: int256 = self.compute_absorb_cap(
            holder.upnl, fill, holder.size, holder.equity, delta, holder.maintenance
        )
        absorbed: int256 = min(self.compute_deficit_share(loss, filled, filled + fill, size), cap)
        fills.append(Fill(counterparty=holder.account, size=fill, absorbed=absorbed))
        filled += fill
    return fills


@internal
@pure
def _allocate_pro_rata(
    policy: uint256, price: int256, holders: DynArray[Holder, N], size: int256, loss: int256
) -> DynArray[Fill, N]:
    weights: DynArray[int256, N] = []
    sizes: DynArray[int256, N] = []
    capacities: DynArray[int256, N] = []
    accounts: DynArray[address, N] = []
    paid: DynArray[int256, N] = []
    pnl: bool = policy == constants.ADL_POLICY_PNL_PRO_RATA
    for holder: Holder in holders:
        if self._is_eligible(holder):
            sizes.append(holder.size)
            accounts.append(holder.account)
            if pnl:  # the round's base and cap: profit and cap at its start (issue 19)
                weights.append(holder.upnl + holder.paid)
                capacities.append(holder.paid + self.compute_capacity(holder))
                paid.append(holder.paid)
            else:
                weights.append(self.compute_weight(policy, holder, price))
                capacities.append(self.compute_capacity(holder))
    # lots by size, charges by the policy's weights (issue 19): every eligible position
    # closes the same fraction, so the next call of the same round weighs it as this one;
    # under pro-rata on profit each keeps a lot while the others hold the bankrupt size
    # (no winner leaves the round by a rounding), `adl_allocator.lot_caps`
    keep: DynArray[int256, N] = sizes
    if pnl:
        kept: int256 = 0
        for i: uint256 in range(len(sizes), bound=N):
            keep[i] = sizes[i] - 1
            kept += sizes[i] - 1
        if kept < size:
            keep = sizes
    lots: DynArray[int256, N] = self.water_fill(sizes, keep, accounts, size)
    charges: DynArray[int256, N] = []
    if pnl:
        charges = self._round_charges(weights, capacities, paid, accounts, loss)
    else:
        charges = self.water_fill(weights, capacities, accounts, loss)
    fills: DynArray[Fill, N] = []
    for i: uint256 in range(len(accounts), bound=N):
        if lots[i] > 0 or charges[i] > 0:
            fills.append(Fill(counterparty=accounts[i], size=lots[i], absorbed=charges[i]))
    return fills


@external
@pure
def allocate(
    policy: uint256,
    price: uint256,
    mmr: uint256,
    holders: DynArray[Holder, N],
    size: int256,
    loss: int256,
) -> DynArray[Fill, N]:
    """
    @notice The fills closing `size` lots against `holders` (one side of a market, in
            holder order, holding at least `size`) and the part of `loss` each absorbs.
            The rest closes uncharged, bankrupt accounts last so that closing one here
            cannot move its deficit out of this market ahead of a solvent holder.
            Spec: `adl_allocator.allocate`, `adl_allocator.completion_order`.
    """
    fills: DynArray[Fill, N] = []
    if policy == constants.ADL_POLICY_QUEUE:
        fills = self._allocate_queue(
            convert(price, int256), convert(mmr, int256), holders, size, loss
        )
    else:
        fills = self._allocate_pro_rata(policy, convert(price, int256), holders, size, loss)
    filled: int256 = 0
    for fill: Fill in fills:
        filled += fill.size
    if filled == size:
        return fills
    # the rest at the oracle price, uncharged: solvent accounts first, bankrupt ones last
    for bankrupt: bool in [False, True]:
        for holder: Holder in holders:
            if filled == size:
                return fills
            if self._is_eligible(holder) or (holder.equity < 0) != bankrupt:
                continue
            fill: int256 = min(size - filled, holder.size)
            fills.append(Fill(counterparty=holder.account, size=fill, absorbed=0))
            filled += fill
    return fills
