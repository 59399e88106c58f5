"""No role off a local network may be a development account, however it is written."""

from types import SimpleNamespace

import click
import pytest

from deployment.dev_accounts import dev_account_index, dev_addresses
from harness.evm.base import ACCOUNTS
from scripts.deploy import resolve

DEPLOYER = SimpleNamespace(address="0x1111111111111111111111111111111111111111")


def test_the_development_accounts_are_anvils_and_apes():
    assert dev_addresses() == ACCOUNTS


@pytest.mark.parametrize(
    "spelling",
    [
        "test:2",
        "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",  # checksummed
        "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc",
        "0x3C44CDDDB6A900FA2B585DD299E03D12FA4293BC",
    ],
)
def test_every_spelling_of_a_development_account_is_refused_off_local(spelling):
    with pytest.raises(click.UsageError, match="operator: .* test"):
        resolve("operator", spelling, DEPLOYER, local=False)


def test_a_development_deployer_is_refused_and_other_addresses_pass():
    dev = SimpleNamespace(address=ACCOUNTS[19])
    with pytest.raises(click.UsageError, match="is development account test:19"):
        resolve("owner (the deployer)", "deployer", dev, local=False)
    assert resolve("oracle", "deployer", DEPLOYER, local=False) == DEPLOYER.address
    assert dev_account_index(DEPLOYER.address) is None
    assert resolve("oracle", ACCOUNTS[1], DEPLOYER, local=True) == ACCOUNTS[1]
