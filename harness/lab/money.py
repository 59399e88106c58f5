"""Amounts as the report prints them: token base units (6 decimals) to USDC, exactly."""

CENT = 10_000  # base units per cent


def usdc(units: int) -> str:
    """Base units to USDC with cents and thousands separators, exactly.

    Rounds half to even at the cent on the magnitude (15_000 -> "0.02", 5_000 -> "0.00"),
    and a total that rounds to zero carries no sign: -5_000 -> "0.00", not "-0.00".
    """
    cents, rest = divmod(abs(units), CENT)
    if rest > CENT // 2 or (rest == CENT // 2 and cents % 2):
        cents += 1
    whole, frac = divmod(cents, 100)
    sign = "-" if units < 0 and cents else ""
    return f"{sign}{whole:,}.{frac:02d}"


def usdc_exact(units: int) -> str:
    """Base units to USDC with all six decimals: an amount of a few units, unrounded."""
    whole, frac = divmod(abs(units), 10**6)
    return f"{'-' if units < 0 else ''}{whole:,}.{frac:06d}"
