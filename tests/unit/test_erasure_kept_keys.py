"""The erasure's kept keys are exactly the contract's columns that never name a customer."""

from __future__ import annotations

from graph.repositories.erasure import KEPT_KEYS, replace_token
from loaders.contract import SPECS


def test_kept_keys_are_the_contract_columns_that_are_not_customer_references() -> None:
    columns = {column for spec in SPECS.values() for column in spec.columns}
    references = {
        column
        for spec in SPECS.values()
        for column, target in dict(spec.refs).items()
        if target == "customers"
    }
    assert columns - references - {"customer_id"} == KEPT_KEYS


def test_json_values_under_kept_keys_stay_and_escaped_ids_go() -> None:
    stored = '{"path": ["H\\"1", "T1"], "product_id": "H\\"1"}'
    assert replace_token(stored, 'H"1', "ERASED-e") == (
        '{"path": ["ERASED-e", "T1"], "product_id": "H\\"1"}'
    )
    assert replace_token('["\\u5ba21"]', "客1", "ERASED-e") == '["ERASED-e"]'
    assert replace_token("intro \\u5ba21 x", "客1", "ERASED-e") == "intro ERASED-e x"
