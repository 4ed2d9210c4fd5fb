"""Synthetic bank generator: the 15 files of input contract v1 plus the ground truth behind them.

Deterministic for a seed and vectorised with numpy (a million customers in minutes). See
:func:`generate_bank`; the reason codes of planted bad rows are :class:`RejectReason`.
"""

from loaders.generator.bank import GenerationSummary, generate_bank
from loaders.generator.contract import FILE_ORDER, SPECS, FileSpec, NumberRule
from loaders.rejects import RejectReason

__all__ = [
    "FILE_ORDER",
    "SPECS",
    "FileSpec",
    "GenerationSummary",
    "NumberRule",
    "RejectReason",
    "generate_bank",
]
