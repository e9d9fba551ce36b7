"""``python -m caseledger``: the same command line as the ``caseledger`` script."""

from caseledger.cli import main

if __name__ == "__main__":
    main()
