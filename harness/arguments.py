"""argparse types shared by the commands: a number out of range, NaN or infinity is a
usage error (exit 2, with the option and the value), never a run of nothing."""

import argparse


def number(kind, low: float, strict: bool, what: str):
    """An argparse type: ``kind`` above ``low`` (``strict``) or at least ``low``, finite."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise argparse.ArgumentTypeError(f"{text!r}: must be {what}")
        if value < low or (strict and value == low):
            raise argparse.ArgumentTypeError(f"{text!r}: must be {what}")
        return value

    return parse


POSITIVE = number(int, 0, True, "a positive integer")
AT_LEAST_ZERO = number(int, 0, False, "an integer >= 0")
SECONDS = number(float, 0, True, "a positive number of seconds")
