"""Tools for testing deadline logic and rule packs: hypothesis strategies, a stateful machine
that drives a ledger, and a pytest plugin that runs a pack's scenario files.

``caseledger.testing.strategies`` and ``caseledger.testing.stateful`` need hypothesis
(``pip install 'caseledger[testing]'``); the pytest plugin (``caseledger.testing.plugin``,
registered through the ``pytest11`` entry point) needs only pytest.
"""
