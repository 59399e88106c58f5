"""The well-known development accounts: anyone holds their keys, so no deployed role may
be one of them off a local network.

They are the first accounts of the public test mnemonic that anvil, hardhat and ape's
test provider all use; a role may name one as ``test:<i>`` or as its address in any case.
"""

from functools import cache

from eth_account import Account

DEV_MNEMONIC = "test test test test test test test test test test test junk"
# ape's test provider (ape-config.yaml) and hardhat fund 20, anvil 10
DEV_ACCOUNT_COUNT = 20


@cache
def dev_addresses() -> tuple[str, ...]:
    """The lowercase addresses of ``m/44'/60'/0'/0/i``, i < DEV_ACCOUNT_COUNT."""
    Account.enable_unaudited_hdwallet_features()
    return tuple(
        Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}").address.lower()
        for i in range(DEV_ACCOUNT_COUNT)
    )


def dev_account_index(address: str) -> int | None:
    """``i`` when ``address`` (any case) is development account ``test:<i>``, else None."""
    try:
        return dev_addresses().index(address.lower())
    except ValueError:
        return None
