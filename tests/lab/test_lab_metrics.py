"""The lab's round metrics on hand-built rounds: U over every eligible position and the
cross-call monotonicity count."""

from fractions import Fraction

from harness.lab.cascade import Charge, Deleveraging, OrderOutcome, Round
from harness.lab.metrics import round_metrics, share_inversions


def _call(capacities: dict[str, int], entries: dict[str, int], taken: dict[str, int]):
    charges = [Charge(a, 1, x, capacities[a], True) for a, x in taken.items()]
    sizes = dict.fromkeys(capacities, 10)
    return Deleveraging(
        "bankrupt", -1, 10, sum(taken.values()), capacities, sizes, entries, charges
    )


def test_u_counts_every_eligible_position_charged_or_not():
    # "c" is eligible but never charged: it still counts in U = 100 + 100 + 200
    record = _call({"a": 100, "b": 100, "c": 200}, {"a": 1_000, "b": 1_000, "c": 2_000}, {"a": 40})
    row = round_metrics(Round(900, 900, deficit=40, deleveragings=[record]), None)
    assert row["eligible_capacity"] == 400
    assert row["reference_concentration"] == Fraction(40, 400)
    assert row["concentration"] == Fraction(40, 100)


def test_a_later_call_sees_the_capacity_the_round_started_with():
    first = _call({"a": 100, "b": 50}, {"a": 500, "b": 500}, {"a": 10, "b": 5})
    second = _call({"a": 90, "b": 45}, {"a": 450, "b": 450}, {"b": 40})
    row = round_metrics(Round(900, 900, deficit=55, deleveragings=[first, second]), None)
    assert row["eligible_capacity"] == 150  # not 150 + 135
    # a (PnL% 20%) paid 10%, b (10%) paid 90%: in proportion within the first call, but
    # over the round's two calls the richer paid the smaller share
    assert row["concentration"] == Fraction(45, 50)
    assert (row["inversions"], row["ordered_pairs"]) == (1, 1)
    alone = round_metrics(Round(900, 900, deficit=15, deleveragings=[first]), None)
    assert (alone["inversions"], alone["ordered_pairs"]) == (0, 1)


def test_an_order_is_capped_against_its_own_budgets():
    """The other order's calls asked less (its budgets as its calls saw them): charges
    equal to its own budgets are no cap (a first version compared them with this order's
    budgets and called 18 rounds capped where no cap bound, when keeper rewards the fund
    paid from its room still differed between the orders)."""
    record = _call({"a": 100, "b": 100}, {"a": 500, "b": 500}, {"a": 30, "b": 30})
    cheaper = OrderOutcome({"a": 20, "b": 20}, needed=40, bad_debt=0)
    unrewarded = (cheaper, OrderOutcome({"a": 21, "b": 19}, 40, 0))
    round_ = Round(900, 900, 60, deleveragings=[record], reversed=cheaper, unrewarded=unrewarded)
    row = round_metrics(round_, None)
    assert not row["capped"]
    assert row["call_order_effect"] == 10 and row["call_order_effect_unrewarded"] == 1
    assert row["price_between_effect"] == 0  # not measured
    round_.price_between = OrderOutcome({"a": 25, "b": 15}, 40, 0)
    assert round_metrics(round_, None)["price_between_effect"] == 5  # against the first order
    short = OrderOutcome({"a": 20, "b": 20}, needed=50, bad_debt=0)
    assert round_metrics(Round(900, 900, 60, deleveragings=[record], reversed=short), None)[
        "capped"
    ]
    bad = OrderOutcome({"a": 20, "b": 20}, needed=40, bad_debt=1)
    assert round_metrics(Round(900, 900, 60, deleveragings=[record], reversed=bad), None)["capped"]
    written_off = Round(900, 900, 60, deleveragings=[record], bad_debt=1)
    assert round_metrics(written_off, None)["capped"]


def test_share_inversions():
    capacity, entry = {"rich": 300, "poor": 100}, {"rich": 1_000, "poor": 1_000}
    assert share_inversions(capacity, entry, {"rich": 30, "poor": 50}) == (1, 1)
    assert share_inversions(capacity, entry, {"poor": 1}) == (1, 1)  # richer not charged
    assert share_inversions(capacity, entry, {"rich": 30, "poor": 10}) == (0, 1)  # equal shares
    assert share_inversions(capacity, entry, {"rich": 300}) == (0, 1)
    # the same PnL% (300/3000 = 100/1000): not an ordered pair, whatever they pay
    assert share_inversions(capacity, {"rich": 3_000, "poor": 1_000}, {"poor": 50}) == (0, 0)
