"""The CLI turns every error a person can meet into one message, a hint and an exit code."""

from __future__ import annotations

import neo4j.exceptions as neo4j_errors
import pytest
import typer

from cli.common import friendly_errors


def _failing(error: BaseException) -> typer.Exit:
    @friendly_errors
    def command() -> None:
        raise error

    with pytest.raises(typer.Exit) as raised:
        command()
    return raised.value


@pytest.mark.parametrize(
    ("error", "code", "says"),
    [
        (
            neo4j_errors.Neo4jError._hydrate_neo4j(
                code="Neo.ClientError.Procedure.ProcedureCallFailed",
                message="Failed to invoke procedure `gds.graph.project`: Caused by: "
                "java.lang.IllegalArgumentException: Invalid relationship projection\n  at x",
            ),
            3,
            "Neo.ClientError.Procedure.ProcedureCallFailed",
        ),
        (
            neo4j_errors.Neo4jError._hydrate_neo4j(
                code="Neo.TransientError.Transaction.LockClientStopped", message="stopped"
            ),
            3,
            "stopped",
        ),
        (neo4j_errors.ServiceUnavailable("Couldn't connect to 127.0.0.1:7687"), 3, "connect"),
        (neo4j_errors.SessionExpired("the session went away"), 3, "went away"),
    ],
)
def test_any_database_error_is_one_line_and_a_hint(
    error: BaseException, code: int, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    exit_ = _failing(error)
    assert exit_.exit_code == code
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines[0].startswith("error: ")
    assert says in lines[0]
    assert lines[1].startswith("hint: ")
    assert len(lines) == 2
    assert "Traceback" not in err
