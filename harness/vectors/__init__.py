"""The JSON test vectors: their ``format`` and the ``builder`` that the cases in
``tests/cases`` use to run on spec and chain and render their vectors."""
