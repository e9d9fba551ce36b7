"""The ledger driven by hypothesis' state machine: replayed state equals live state after
every step, forbidden commands are refused and change nothing, resent commands record
nothing, and every chain verifies."""

from hypothesis import settings

from caseledger.testing.stateful import LedgerMachine

TestLedgerDrivenByCommands = LedgerMachine.TestCase
TestLedgerDrivenByCommands.settings = settings(
    max_examples=max(10, settings.default.max_examples // 3),
    stateful_step_count=25,
    deadline=None,
)
