"""What a campaign export may write (issue 12 review): campaign ids that cannot name a path,
files that stay inside ``--out`` and follow no link, owner-only manifests, and CSV cells a
spreadsheet will not run as formulas."""

from __future__ import annotations

import csv
import io
import stat
from pathlib import Path

import pytest

from cli.campaign import _write_export
from graph.errors import CrkgError
from graph.list_export import export_rows, to_csv
from graph.lists import ListRuleError
from graph.repositories.campaigns import CampaignInput, ListExport


def campaign(campaign_id: str) -> CampaignInput:
    return CampaignInput(campaign_id, "名单", "P1", channel="SMS", purpose="MARKETING", owner="o")


@pytest.mark.parametrize(
    "bad", ["/etc/cron.d/x", "../../x", "a/b", ".hidden", "-rf", "K 1", "K:1", "x" * 65, "名单"]
)
def test_a_campaign_id_that_could_name_a_path_is_refused(bad: str) -> None:
    with pytest.raises(ListRuleError, match="campaign_id"):
        campaign(bad).checked()


@pytest.mark.parametrize("good", ["K1", "K-API", "spring_2026.cards", "x" * 64])
def test_a_plain_campaign_id_is_accepted(good: str) -> None:
    assert campaign(good).checked().campaign_id == good


def done(file_name: str) -> ListExport:
    return ListExport(b"data\n", {"rows": 1}, file_name)


def test_an_export_is_written_owner_only_inside_its_folder(tmp_path: Path) -> None:
    target, manifest = _write_export(tmp_path / "out", done("K1-v1.csv"))
    assert target.read_bytes() == b"data\n"
    for path in (target, manifest):
        assert path.parent == tmp_path / "out"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


@pytest.mark.parametrize("name", ["../escaped.csv", "/var/escaped.csv", "a/../../escaped.csv"])
def test_an_export_name_outside_the_folder_is_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(CrkgError, match="outside"):
        _write_export(tmp_path / "out", done(name))
    assert not (tmp_path / "escaped.csv").exists()


def test_an_export_follows_no_symlink(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim"
    victim.write_text("keep")
    (out / "K1-v1.csv").symlink_to(victim)
    with pytest.raises(CrkgError, match="link"):
        _write_export(out, done("K1-v1.csv"))
    assert victim.read_text() == "keep"
    (out / "K1-v1.csv").unlink()
    (out / "K1-v1.csv.manifest.json").symlink_to(victim)
    with pytest.raises(CrkgError, match="link"):
        _write_export(out, done("K1-v1.csv"))
    assert victim.read_text() == "keep"


def test_a_csv_cell_a_spreadsheet_would_run_is_neutralised() -> None:
    rows = [{"customer_id": "C1", "position": 1, "treatment": "T",
             "reasons": {"score": 0.5, "community": "-7", "introducer_id": "C9", "path": []}}]  # fmt: skip
    contacts = {"C1": {"name": '=HYPERLINK("x")', "phone": "+8613800000000", "email": "@a"}}
    table = export_rows("K1:v1", rows, contacts)
    record = next(csv.DictReader(io.StringIO(to_csv(table, contact=True).decode())))
    assert record["name"] == '\'=HYPERLINK("x")'
    assert record["phone"] == "'+8613800000000"
    assert record["email"] == "'@a"
    assert record["community"] == "'-7"
    assert record["score"] == "0.5", "numbers stay numbers"
    for lead in ("\t", "\r"):
        cell = to_csv([{**table[0], "name": f"{lead}x"}], contact=True).decode()
        assert f"'{lead}x" in cell
