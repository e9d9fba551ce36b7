"""A rule pack's tests as data: scenario files (:mod:`.files`), cases made of events judged
like any recorded case (:mod:`.cases`), every expectation of a scenario checked
(:mod:`.runner`), and a pack folder under test (:mod:`.folder`), as ``caseledger packs test``
and the pytest plugin run them."""
