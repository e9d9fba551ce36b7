"""The HTTP API and the supervision office's web board (``caseledger serve``).

``app.create_app`` builds the ASGI application (FastAPI, run by uvicorn) over one
:class:`~caseledger.ledger.CaseLedger`; ``tokens`` keeps the bearer tokens, hashed, in the
ledger's own database; ``problems`` turns every typed error into RFC 9457 problem details;
``web`` renders the board, a case, the statistics and the projects, and their downloads.
Needs the ``http`` extra (``pip install 'caseledger[http]'``).
"""
