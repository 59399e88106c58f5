"""The embedded chain: revm in process through pyrevm.

revm executes the engine's transactions about two orders of magnitude faster than
py-evm, which is what makes a full-state differential step cost well under a
millisecond. Snapshots are journal checkpoints: reverting to one is cheap and can be
repeated, which is how every hypothesis example starts from the same deployed state.
"""

from __future__ import annotations

from pyrevm import EVM, BlockEnv, CfgEnv, Env

from harness.evm.base import (
    ACCOUNT_BALANCE,
    ACCOUNTS,
    CHAIN_ID,
    GENESIS_TIME,
    TX_GAS,
    ZERO_ADDRESS,
    ChainError,
    Log,
    Snap,
    TxResult,
    decode_revert,
    extra_accounts,
)

EIP170_CODE_SIZE_LIMIT = 24_576


class RevmChain:
    """In-process revm with anvil's accounts, chain id, gas limit and code-size limit."""

    name = "embedded"

    def __init__(self, hardfork: str = "PRAGUE") -> None:
        cfg = CfgEnv(chain_id=CHAIN_ID, limit_contract_code_size=EIP170_CODE_SIZE_LIMIT)
        self._evm = EVM(env=Env(cfg=cfg), spec_id=hardfork)
        self.accounts = list(ACCOUNTS)
        for account in self.accounts:
            self._evm.set_balance(account, ACCOUNT_BALANCE)
        self.set_time(GENESIS_TIME)

    def now(self) -> int:
        return self._evm.env.block.timestamp

    def set_time(self, timestamp: int) -> None:
        block = self._evm.env.block
        self._evm.set_block_env(
            BlockEnv(
                number=block.number,
                coinbase=block.coinbase,
                timestamp=timestamp,
                difficulty=block.difficulty,
                prevrandao=block.prevrandao,
                basefee=block.basefee,
                gas_limit=block.gas_limit,
            )
        )

    def add_accounts(self, count: int) -> None:
        """Fund ``count`` more accounts (``extra_accounts``) and append them to ``accounts``."""
        for account in extra_accounts(count):
            self._evm.set_balance(account, ACCOUNT_BALANCE)
            self.accounts.append(account)

    def nonce(self, account: str) -> int:
        return self._evm.basic(account).nonce

    def deploy(self, initcode: bytes, sender: str) -> str:
        try:
            address = self._evm.deploy(sender, initcode, gas=TX_GAS)
        except RuntimeError as error:
            reason = decode_revert(_revert_output(str(error)))
            raise ChainError(f"deploy failed: reason={reason!r}") from None
        return address.lower()

    def _run(self, sender: str, to: str, data: bytes) -> TxResult:
        evm = self._evm
        try:
            output = evm.message_call(sender, to, data, gas=TX_GAS)
        except RuntimeError as error:
            revert = _revert_output(str(error))
            result = evm.result
            return TxResult(
                False, decode_revert(revert), (), result.gas_used if result else 0, revert
            )
        result = evm.result
        logs = tuple(
            Log(log.address.lower(), tuple(log.data[0]), bytes(log.data[1])) for log in result.logs
        )
        return TxResult(True, None, logs, result.gas_used, bytes(output))

    def transact(self, sender: str, to: str, data: bytes) -> TxResult:
        return self._run(sender, to, data)

    def call(self, to: str, data: bytes, sender: str | None = None) -> TxResult:
        """Simulate like eth_call: run, then roll back (state-changing calls included)."""
        checkpoint = self._evm.snapshot()
        try:
            result = self._run(sender or ZERO_ADDRESS, to, data)
        finally:
            self._evm.revert(checkpoint)
        return TxResult(result.success, result.reason, result.logs, 0, result.output)

    def storage(self, address: str, slot: int) -> int:
        """The word at ``slot`` of ``address``'s storage now (``chain_state.StorageReader``)."""
        return self._evm.storage(address, slot)

    def snapshot(self) -> Snap:
        return Snap(self._evm.snapshot())

    def revert(self, snap: Snap, rearm: bool = True) -> None:
        # A journal checkpoint is consumed by reverting to it: take a new one at once so
        # the same snapshot can be reverted to again (every hypothesis example does). Each
        # checkpoint deepens the journal until it is reverted: one taken and never
        # reverted stays (past 1,024, every call fails as too deep).
        self._evm.revert(snap.ident)
        if rearm:
            snap.ident = self._evm.snapshot()

    def close(self) -> None:
        self._evm = None


def _revert_output(message: str) -> bytes:
    """Extract the revert data from pyrevm's error text ``Revert { ..., output: 0x.. }``."""
    marker = "output: 0x"
    start = message.find(marker)
    if start < 0:
        return b""
    hex_data = message[start + len(marker) :].split()[0].rstrip("},")
    return bytes.fromhex(hex_data)
