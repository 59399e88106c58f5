"""The attacker contract's actions: several protocol calls in one transaction.

``contracts/testing/Bundler.vy`` makes the calls of a ``bundle`` in one transaction, at one
timestamp, atomically. The moves are what a contract can do without a key (it cannot
sign an order): deposit, withdraw, liquidate, deleverage, and the escape hatch's
request, cancel, take and escape. Each move reads the state the previous ones left (a
trial copy), so bundles mostly succeed and reach deep states: a liquidation taken over
and its collateral withdrawn at once; another trader's exit taken, then an exit requested
and escaped in the same transaction (N1 staged in one block); a keeper's deleverage with
the proceeds withdrawn.
"""

from __future__ import annotations

from harness.core.call import Call, bundle
from harness.core.choices import Choices, World
from harness.core.genesis import ATTACKER, USDC
from harness.core.spec_step import spec_apply
from pyspec import margin
from pyspec.constants import MAX_POSITION_SIZE
from pyspec.state import State, get_position

MAX_MOVES = 4


def attack(world: World, choose: Choices) -> list[Call]:
    """One bundle of one to ``MAX_MOVES`` moves, driven by a trader; mostly it opens with a
    deposit so that the attacker can carry what it takes over."""
    trial = world.state.copy()
    moves = []
    first = [_deposit] if choose.chance(3, 4) else []
    for move in first + [choose.pick(MOVES) for _ in range(choose.integer(1, MAX_MOVES - 1))]:
        call = move(world, trial, choose)
        moves.append(call)
        trial, _, _ = spec_apply(trial, world.actors, call)
    return [bundle(choose.pick(world.traders), *moves)]


def _attacker(world: World) -> str:
    return world.actors[ATTACKER]


def _deposit(world: World, state: State, choose: Choices) -> Call:
    value = choose.pick((1_000, 10_000, 100_000)) * USDC
    return Call("engine", "deposit", ATTACKER, (value,))


def _withdraw(world: World, state: State, choose: Choices) -> Call:
    """All the free collateral (what a thief takes), or one unit more."""
    address = _attacker(world)
    free = margin.equity(state, address) - margin.initial_margin(state, address)
    return Call("engine", "withdraw", ATTACKER, (max(free, 0) + choose.integer(0, 1),))


def _liquidate(world: World, state: State, choose: Choices) -> Call:
    targets = [t for t in world.traders if margin.is_liquidatable(state, world.actors[t])]
    target = choose.pick(targets or world.traders)
    held = _held(world, state, target)
    market_id = choose.pick(held) if held else 0
    return Call("engine", "liquidate", ATTACKER, (target, market_id, MAX_POSITION_SIZE))


def _deleverage(world: World, state: State, choose: Choices) -> Call:
    bankrupt = [t for t in world.traders if margin.equity(state, world.actors[t]) < 0]
    return Call("engine", "deleverage", ATTACKER, (choose.pick(bankrupt or world.traders),))


def _request_exit(world: World, state: State, choose: Choices) -> Call:
    held = _held(world, state, ATTACKER)
    market_id = choose.pick(held) if held else choose.integer(0, len(state.markets) - 1)
    return Call("settlement", "request_exit", ATTACKER, (market_id,))


def _cancel_exit(world: World, state: State, choose: Choices) -> Call:
    requests = [m for (a, m) in state.book.exit_requests if a == _attacker(world)]
    market_id = choose.pick(requests) if requests else 0
    return Call("settlement", "cancel_exit", ATTACKER, (market_id,))


def _take_exit(world: World, state: State, choose: Choices) -> Call:
    """Take another trader's requested exit, or a request nobody made."""
    names = {address: name for name, address in world.actors.items()}
    requests = [
        (names[a], m) for (a, m) in state.book.exit_requests if names.get(a) in world.traders
    ]
    trader, market_id = choose.pick(requests) if requests else (choose.pick(world.traders), 0)
    return Call("settlement", "take_exit", ATTACKER, (trader, market_id))


def _escape(world: World, state: State, choose: Choices) -> Call:
    """Escape the attacker's own request (staged in this transaction) or anyone's."""
    names = {address: name for name, address in world.actors.items()}
    requests = [(names[a], m) for (a, m) in state.book.exit_requests if a in names]
    trader, market_id = choose.pick(requests) if requests else (ATTACKER, 0)
    return Call("settlement", "escape", ATTACKER, (trader, market_id))


def _held(world: World, state: State, who: str) -> list[int]:
    address = world.actors[who]
    return [m for m in range(len(state.markets)) if get_position(state, address, m).size != 0]


MOVES = (
    _deposit,
    _withdraw,
    _withdraw,
    _liquidate,
    _liquidate,
    _deleverage,
    _request_exit,
    _request_exit,
    _cancel_exit,
    _take_exit,
    _take_exit,
    _escape,
    _escape,
)
