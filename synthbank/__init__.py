"""The synthetic bank: the files of the input contract (``loaders.contract``) plus the ground
truth planted in them, for the demo, the tests and the benchmarks.

Deterministic for a seed and vectorised with numpy (a million customers in minutes); see
:func:`synthbank.bank.generate_bank`. It imports the contract, never the reverse: loading an
export does not import this package (nor numpy). This module imports nothing heavy, so the
limits (:mod:`synthbank.limits`) are cheap to read.
"""
