"""The persistent read models kept in the ledger's database: the supervision board and the
queries on it (board, statistics, scores), kept up to date from the event log exactly once
per event, and rebuilt over forked processes. Rows are made by :mod:`caseledger.judging`.
"""
