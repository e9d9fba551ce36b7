"""caseledger: the ledger of administrative-approval cases (行政审批办件)."""

from caseledger.ledger import CaseLedger

__all__ = ["CaseLedger"]
