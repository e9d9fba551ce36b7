"""Judging a case: a pure function of its facts, its rule pack and a moment.

Stored events become facts (:mod:`.facts`); the clock runs over them (:mod:`.clock`);
violations, sanctions and lights are found (:mod:`.judgement`); :mod:`.evaluation` puts
them together with their explanation, :mod:`.project` does the same for a parallel-approval
project, and :mod:`.rows` makes the board row of a case. Nothing here reads the wall clock
or a database. A wheel carries this folder compiled by mypyc (``hatch_build.py``).
"""
