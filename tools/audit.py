"""``make audit``: known vulnerabilities in the locked Python packages and the npm lock file.

A scan that could not reach an advisory database has checked nothing, so it fails rather than
print a clean result: ``pip-audit`` without ``--strict`` reports "could not be audited" and
exits 0, and ``npm audit`` behind a registry mirror without the advisory endpoint only warns.

Exit codes: 0 every package checked and nothing known; 1 known vulnerabilities; 2 an advisory
database could not be reached (or a scanner failed), so nothing was checked.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK_FILE = ROOT / "requirements-dev.lock"  # the superset: what CI runs and the image runs

# what the scanners print when they never got an answer from an advisory database
UNREACHABLE_SIGNS = (
    "could not be audited",  # pip-audit: the PyPI per-release JSON API did not answer
    "ConnectionError",
    "NameResolutionError",
    "Max retries exceeded",
    "audit endpoint returned an error",  # npm: the registry has no advisory endpoint
    "ENOTFOUND",
    "ECONNREFUSED",
    "ETIMEDOUT",
    "405 Method Not Allowed",
)


class Verdict(IntEnum):
    CLEAN = 0
    VULNERABLE = 1
    NOT_CHECKED = 2


@dataclass(frozen=True)
class ScanResult:
    scanner: str
    verdict: Verdict
    detail: str


def judge(scanner: str, returncode: int, output: str) -> ScanResult:
    """What one scanner's exit code and output mean.

    >>> judge("pip-audit", 0, "No known vulnerabilities found").verdict.name
    'CLEAN'
    >>> judge("pip-audit", 1, "uvicorn: Dependency not found on PyPI and could not be audited")
    ... # doctest: +ELLIPSIS
    ScanResult(scanner='pip-audit', verdict=<Verdict.NOT_CHECKED: 2>, ...)
    >>> judge("npm audit", 1, "found 2 high severity vulnerabilities").verdict.name
    'VULNERABLE'
    """
    unreachable = [sign for sign in UNREACHABLE_SIGNS if sign in output]
    if unreachable:
        return ScanResult(
            scanner,
            Verdict.NOT_CHECKED,
            f"{scanner} could not reach an advisory database ({unreachable[0]!r}): "
            "nothing was checked; run `make audit` where the pipeline can reach PyPI's JSON "
            "API (or OSV) and npm's advisory endpoint",
        )
    if returncode == 0:
        return ScanResult(scanner, Verdict.CLEAN, f"{scanner}: no known vulnerabilities")
    if "vulnerabilit" in output.lower() or "GHSA-" in output or "PYSEC-" in output:
        return ScanResult(scanner, Verdict.VULNERABLE, f"{scanner} found known vulnerabilities")
    return ScanResult(
        scanner, Verdict.NOT_CHECKED, f"{scanner} failed (exit {returncode}): nothing was checked"
    )


def _run(command: list[str]) -> tuple[int, str]:
    try:
        done = subprocess.run(  # a fixed argv, no shell
            command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
        )
    except FileNotFoundError:
        return 127, f"{command[0]} is not installed"
    except subprocess.TimeoutExpired:
        return 124, f"{command[0]} did not finish within 600 s (ConnectionError?)"
    return done.returncode, done.stdout + done.stderr


def scan() -> list[ScanResult]:
    pip_audit = Path(sys.executable).with_name("pip-audit")
    python = [
        str(pip_audit),
        "--strict",  # a package it cannot look up is a failure, not a skip
        "--progress-spinner",
        "off",
        "--disable-pip",  # the lock is fully pinned and hashed: nothing to resolve
        "--require-hashes",
        "-r",
        str(LOCK_FILE),
    ]
    npm = ["npm", "audit", "--no-fund"]
    results = []
    for name, command in (("pip-audit", python), ("npm audit", npm)):
        returncode, output = _run(command)
        result = judge(name, returncode, output)
        if result.verdict is not Verdict.CLEAN:
            print(output.strip()[-4000:], file=sys.stderr)
        results.append(result)
    return results


def main() -> int:
    results = scan()
    for result in results:
        print(f"{result.verdict.name:12} {result.detail}")
    return max(result.verdict for result in results)


if __name__ == "__main__":
    raise SystemExit(main())
