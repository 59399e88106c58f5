"""The full protocol state as one flat list of integers (a state dump), from the spec
and from the chain.

Both sides produce the layout of ``contracts/testing/StateLens.vy`` ``dump``; equal lists
mean equal state. ``parse`` reads a dump into fields for the invariants, ``labelled``
names every word, and on a mismatch ``first_difference`` names the first differing field.
"""

from functools import cache, lru_cache
from operator import attrgetter

from deployment.config import LISTING_FIELDS
from pyspec.constants import (
    ADL_AMOUNT_MASK,
    ADL_PAID_SHIFT,
    ADL_ROUND_SHIFT,
    LAST_FILL_MASK,
    LAST_FILL_SHIFT,
    NEW_MONEY_EPOCH_SHIFT,
    NEW_MONEY_MASK,
)
from pyspec.state import Account, Position, State

MARKET_FIELDS = (
    *LISTING_FIELDS,
    "price",
    "price_timestamp",
    "open_interest",
    "funding_index",
    "funding_residue",
    "funding_rate",
    "funding_timestamp",
    "paused",
    "settled",
    "generation",
    "long_adl_round",
    "short_adl_round",
)
ROLES = ("owner", "pending_owner", "guardian", "oracle", "operator")
# Counters after the roles: the engine's fills, the Settlement's latest match or takeover.
COUNTERS = ("fill_count", "settlement.last_trade_time", "loss_epoch", "fresh_total")
# Order digests compared per dump (StateLens.MAX_DUMP_ORDERS): the latest the spec touched.
MAX_DUMP_ORDERS = 128


def digests_of(state_json: dict) -> list[bytes]:
    """The order digests a labelled state (a vector's) covers, in its order."""
    prefix = "settlement.filled(0x"
    return [bytes.fromhex(key[len(prefix) : -1]) for key in state_json if key.startswith(prefix)]


def dumped_digests(state: State) -> list[bytes]:
    """The order digests a dump covers: the latest ``MAX_DUMP_ORDERS`` the spec filled or
    cancelled (a fill or cancel the chain records under another digest shows as a zero)."""
    return state.book.touched[-MAX_DUMP_ORDERS:]


def dumped_call_ids(state: State) -> list[bytes]:
    """The Governor call ids a dump covers: the latest ``MAX_DUMP_ORDERS`` scheduled."""
    return state.timelock.touched[-MAX_DUMP_ORDERS:]


def call_ids_of(state_json: dict) -> list[bytes]:
    """The Governor call ids a labelled state (a vector's) covers, in its order."""
    prefix = "governor.eta(0x"
    return [bytes.fromhex(key[len(prefix) : -1]) for key in state_json if key.startswith(prefix)]


POSITION_FIELDS = ("size", "entry_notional", "funding_checkpoint", "stamp")
# An account's words before its positions: token balance, collateral, booked loss (M-1),
# new money (issue 18: ``storage.fresh``, its epoch above the amount).
ACCOUNT_HEAD = 4
REQUEST_FIELDS = ("size", "last_fill", "deadline")


def stamp(position: Position) -> int:
    """The contract's one-word stamp of a spec position: its ADL round (issue 19), last fill
    (N1), ADL charges in the round and ADL profit (``storage.Position.stamp``)."""
    return (
        position.adl_round << ADL_ROUND_SHIFT
        | position.last_fill << LAST_FILL_SHIFT
        | position.adl_paid << ADL_PAID_SHIFT
        | position.adl_profit
    )


STAMP_FIELDS = ("last_fill", "adl_round", "adl_paid", "adl_profit")


def fresh_word(account: Account) -> int:
    """The contract's one-word new money of a spec account (``storage.fresh``)."""
    return account.fresh_epoch << NEW_MONEY_EPOCH_SHIFT | account.fresh


def stamp_fields(word: int) -> tuple[int, int, int, int]:
    """The spec's fields of a stamp, in ``STAMP_FIELDS`` order."""
    return (
        word >> LAST_FILL_SHIFT & LAST_FILL_MASK,
        word >> ADL_ROUND_SHIFT,
        word >> ADL_PAID_SHIFT & ADL_AMOUNT_MASK,
        word & ADL_AMOUNT_MASK,
    )


def account_words(state: State, address: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """``address``'s two sections of a dump: (token balance, collateral, booked loss,
    positions) and (nonce floor, exit requests)."""
    account = state.accounts.get(address)
    markets = range(len(state.markets))
    first = [state.token.balance_of(address)]
    if account is None:
        first += _NO_ACCOUNT
        for _ in markets:
            first += _NO_POSITION
    else:
        first += account.collateral, account.booked, fresh_word(account)
        position_in = account.positions.get
        for market_id in markets:
            p = position_in(market_id)
            if p is None:
                first += _NO_POSITION
            else:
                first += p.size, p.entry_notional, p.funding_checkpoint, stamp(p)
    book = state.book
    second = [book.min_nonce.get(address, 0)]
    request_of = book.exit_requests.get
    for market_id in markets:
        second += request_of((address, market_id), _NO_REQUEST)
    return tuple(first), tuple(second)


_NO_ACCOUNT = (0, 0, 0)
_NO_POSITION = (0,) * len(POSITION_FIELDS)
_NO_REQUEST = (0,) * len(REQUEST_FIELDS)


_MARKET_WORDS = attrgetter(*MARKET_FIELDS)


@cache
def _address_word(address: str) -> int:
    """An address as a dump word (a holder's: the same few addresses every step)."""
    return int(address, 16)


# Where ``spec_globals`` has the roles (``ROLES``).
ROLE_WORDS = slice(5, 5 + len(ROLES))


def spec_globals(state: State) -> list[int]:
    """The globals of a spec dump (every dump's first words)."""
    return [
        state.insurance_fund,
        state.bad_debt,
        len(state.markets),
        state.token.balance_of(state.address),
        state.timestamp,
        *(
            int(role, 16)
            for role in (
                state.timelock.owner,
                state.timelock.pending_owner,
                state.guardian,
                state.oracle,
                state.book.operator,
            )
        ),
        state.fill_count,
        state.book.last_trade_time,
        state.loss_epoch,
        state.fresh_total,
    ]


def spec_markets(state: State) -> list[tuple[int, ...]]:
    """Each market's words of a spec dump: its fields, its holder count and holders."""
    return [
        (*map(int, _MARKET_WORDS(m)), len(m.holders), *map(_address_word, m.holders))
        for m in state.markets
    ]


def spec_head(state: State) -> list[int]:
    """The globals and the markets of a spec dump (every dump's first words)."""
    out = spec_globals(state)
    for words in spec_markets(state):
        out.extend(words)
    return out


def _cells(words: tuple, market_id: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """An account's position and exit request words in one market (of ``account_words``)."""
    (first, second), p, r = words, len(POSITION_FIELDS), len(REQUEST_FIELDS)
    return (
        first[ACCOUNT_HEAD + p * market_id : ACCOUNT_HEAD + p * (market_id + 1)],
        second[1 + r * market_id : 1 + r * (market_id + 1)],
    )


def in_markets(words: tuple, market_ids) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """An account's ``account_words`` restricted to ``market_ids`` (the lens's bit set)."""
    first, second = words
    some_first, some_second = list(first[:ACCOUNT_HEAD]), [second[0]]
    for market_id in market_ids:
        position, request = _cells(words, market_id)
        some_first.extend(position)
        some_second.extend(request)
    return tuple(some_first), tuple(some_second)


def changed_markets(now: tuple, before: tuple | None, count: int) -> set[int]:
    """The markets (of ``count``) in which an account's ``account_words`` differ."""
    if before is None or len(now[0]) != len(before[0]):
        return set(range(count))
    return {m for m in range(count) if _cells(now, m) != _cells(before, m)}


def spec_dump(
    state: State,
    accounts: list[str],
    digests: list[bytes] | None = None,
    call_ids: list[bytes] | None = None,
    words: dict | None = None,
    head: list[int] | None = None,
    market_ids: list[int] | None = None,
) -> list[int]:
    """Return the spec state in the lens layout: every account of ``accounts``, the order
    digests and Governor call ids given (by default ``dumped_digests`` and
    ``dumped_call_ids``); with ``market_ids``, each account only in those markets (the
    lens's market bit set). ``words`` (address -> ``account_words``) and ``head``
    (``spec_head``), when given, were already read from this same state (they are not
    read again)."""
    out = spec_head(state) if head is None else list(head)
    if words is None:
        sections = [account_words(state, address) for address in accounts]
    else:
        sections = [words[address] for address in accounts]
    if market_ids is not None:
        sections = [in_markets(section, market_ids) for section in sections]
    for first, _ in sections:
        out.extend(first)
    for _, second in sections:
        out.extend(second)
    book = state.book
    if digests is None:
        digests = dumped_digests(state)
    out.append(len(digests))
    for digest in digests:
        word = int.from_bytes(digest, "big", signed=True)
        out.extend((word, book.filled.get(digest, 0), int(book.cancelled.get(digest, False))))
    if call_ids is None:
        call_ids = dumped_call_ids(state)
    out.append(len(call_ids))
    for ident in call_ids:
        out.extend((int.from_bytes(ident, "big", signed=True), state.timelock.eta.get(ident, 0)))
    return out


def labelled(
    dump: list[int],
    accounts: list[str],
    names: dict[str, str],
    market_ids: list[int] | None = None,
) -> list[tuple[str, int]]:
    """Return (field path, value) pairs for a dump (its accounts in the markets
    ``market_ids`` only, when given); ``names`` maps addresses to actor names."""

    def who(address: str) -> str:
        return names.get(address, address)

    words = iter(dump)
    out = [
        ("insurance_fund", next(words)),
        ("bad_debt", next(words)),
        ("market_count", next(words)),
    ]
    every_market = range(out[2][1])
    markets = every_market if market_ids is None else market_ids
    out.append(("token.balanceOf(engine)", next(words)))
    out.append(("block.timestamp", next(words)))
    for role in ROLES:
        out.append((role, who(f"0x{next(words):040x}")))
    for name in COUNTERS:
        out.append((name, next(words)))
    for market_id in every_market:
        for name in MARKET_FIELDS:
            out.append((f"markets[{market_id}].{name}", next(words)))
        holders = next(words)
        out.append((f"markets[{market_id}].holders.length", holders))
        for i in range(holders):
            holder = f"0x{next(words):040x}"
            out.append((f"markets[{market_id}].holders[{i}]", who(holder)))
    for address in accounts:
        out.append((f"token.balanceOf({who(address)})", next(words)))
        out.append((f"{who(address)}.collateral", next(words)))
        out.append((f"{who(address)}.booked", next(words)))
        fresh = next(words)
        out.append((f"{who(address)}.fresh_epoch", fresh >> NEW_MONEY_EPOCH_SHIFT))
        out.append((f"{who(address)}.fresh", fresh & NEW_MONEY_MASK))
        for market_id in markets:
            position = f"{who(address)}.positions[{market_id}]"
            for name in POSITION_FIELDS[:-1]:
                out.append((f"{position}.{name}", next(words)))
            # the stamp word, as the spec's three fields it packs
            for name, value in zip(STAMP_FIELDS, stamp_fields(next(words)), strict=True):
                out.append((f"{position}.{name}", value))
    for address in accounts:
        out.append((f"settlement.min_nonce({who(address)})", next(words)))
        for market_id in markets:
            key = f"settlement.exit_requests({who(address)}, {market_id})"
            for name in REQUEST_FIELDS:
                out.append((f"{key}.{name}", next(words)))
    digests = next(words)
    out.append(("settlement.digests", digests))
    for _ in range(digests):
        digest = f"0x{next(words) % 2**256:064x}"
        out.append((f"settlement.filled({digest})", next(words)))
        out.append((f"settlement.cancelled({digest})", next(words)))
    call_ids = next(words)
    out.append(("governor.calls", call_ids))
    for _ in range(call_ids):
        ident = f"0x{next(words) % 2**256:064x}"
        out.append((f"governor.eta({ident})", next(words)))
    return out


def first_difference(
    spec: list[int],
    chain: list[int],
    accounts: list[str],
    names: dict[str, str],
    market_ids: list[int] | None = None,
) -> tuple[str, object, object] | None:
    """Return (field, spec value, chain value) of the first differing field, or None."""
    if spec == chain:
        return None
    try:
        left = labelled(spec, accounts, names, market_ids)
        right = labelled(chain, accounts, names, market_ids)
    except StopIteration:
        return ("layout", len(spec), len(chain))
    for (field, a), (other, b) in zip(left, right, strict=False):
        if field != other:
            return (f"{field} | {other}", a, b)
        if a != b:
            return (field, a, b)
    return ("length", len(spec), len(chain))


def parse(dump: list[int], n_accounts: int) -> dict:
    """Return the dump as {"fund", "bad_debt", "engine_balance", "markets", "accounts"}:
    markets as dicts keyed by ``MARKET_FIELDS``, each account as the tuple of its
    collateral, its booked loss and its positions' ``POSITION_FIELDS``, market by market
    (a tuple: the invariants remember what they computed of an account they saw before)."""
    parsed, at = _parse_head(dump)
    width = ACCOUNT_HEAD - 1 + len(parsed["markets"]) * len(POSITION_FIELDS)
    accounts = []
    for _ in range(n_accounts):
        # the account's token balance (dump[at]): covered by the state comparison
        accounts.append(tuple(dump[at + 1 : at + 1 + width]))
        at += 1 + width
    if at > len(dump):
        raise ValueError(f"a dump of {len(dump)} words, short of its layout's {at}")
    parsed["accounts"] = accounts
    return parsed


def parse_words(globals_: list[int], markets: list[tuple], words: list[tuple]) -> dict:
    """``parse`` of the dump ``spec_globals``, ``spec_markets`` and ``account_words`` would
    make, read from them directly (a market's fields shared with every parse of the same
    words: read, never written)."""
    fund, bad_debt, _, engine_balance = globals_[:4]
    return {
        "fund": fund,
        "bad_debt": bad_debt,
        "engine_balance": engine_balance,
        "markets": [_market_fields(m) for m in markets],
        "accounts": [first[1:] for first, _ in words],
    }


@lru_cache(maxsize=1 << 12)
def _market_fields(words: tuple) -> dict:
    """A market's dump words by ``MARKET_FIELDS``, its holders beside."""
    n_fields = len(MARKET_FIELDS)
    market = dict(zip(MARKET_FIELDS, words[:n_fields], strict=True))
    market["holders"] = list(words[n_fields + 1 : n_fields + 1 + words[n_fields]])
    return market


def _parse_head(dump: list[int]) -> tuple[dict, int]:
    """The globals and markets of a dump, and where its accounts begin."""
    fund, bad_debt, count, engine_balance = dump[0], dump[1], dump[2], dump[3]
    # block time, roles, counters: the state comparison's
    at = 4 + 1 + len(ROLES) + len(COUNTERS)
    n_fields, markets = len(MARKET_FIELDS), []
    for _ in range(count):
        market = dict(zip(MARKET_FIELDS, dump[at : at + n_fields], strict=True))
        at += n_fields
        holders = dump[at]
        market["holders"] = dump[at + 1 : at + 1 + holders]
        at += 1 + holders
        markets.append(market)
    parsed = {"fund": fund, "bad_debt": bad_debt, "engine_balance": engine_balance}
    return parsed | {"markets": markets}, at
