"""backtest --out: backtest.csv is a plain CSV; backtest.json carries the run's facts and the
checksums that keep "absent or ours" working; an old-format directory is still ours.

QA found backtest.csv starting with a ``#`` line (readers needed ``comment='#'``) and its
columns missing from ``sim.schema.TABLES``.  No simulation here: a small Backtest by hand.
"""
from __future__ import annotations

import hashlib
import json
import math

import pandas as pd
import pytest

from sim.eventlog.backtest import (COLUMNS, CSV_NAME, ECDF_NAME, KPI, SIDECAR_NAME, Backtest,
                                   check_outputs, write_outputs)
from sim.eventlog.reader import LogError
from sim.eventlog.window import Window
from sim.schema import FILES, TABLES


def small(policy: str = "tiered") -> Backtest:
    w = Window(pd.Timestamp("2026-01-05", tz="UTC"), pd.Timestamp("2026-01-09", tz="UTC"), 400, 420,
               True, "dense creations")
    kpis = [KPI("arrivals_per_day", 100.0, 98.0, 95.0, 101.0, -0.02, True),
            KPI("resolution_median_min", 180.0, 70.0, 65.0, 75.0, -0.61, False),
            KPI("utilisation_L1", 0.0, math.nan, math.nan, math.nan, math.nan, None)]
    return Backtest(kpis, policy, 3, w, 0.95, observed_resolution=[60.0, 120.0, 600.0],
                    simulated_resolution=[50.0, 100.0])


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_backtest_csv_is_plain_and_every_column_is_catalogued(tmp_path):
    paths = write_outputs(small(), tmp_path, {"scenario": "s.yaml", "log": "log.csv", "seed": 3})
    assert [p.name for p in paths] == [CSV_NAME, ECDF_NAME, SIDECAR_NAME]
    assert not (tmp_path / CSV_NAME).read_text(encoding="utf-8").startswith("#")
    frame = pd.read_csv(tmp_path / CSV_NAME)                 # no options
    assert list(frame.columns) == COLUMNS
    assert frame["kpi"].tolist() == ["arrivals_per_day", "resolution_median_min", "utilisation_L1"]
    assert frame["within"].iloc[:2].tolist() == [True, False] and pd.isna(frame["within"].iloc[2])
    spec = TABLES["backtest"]
    assert spec.file == CSV_NAME and [c.name for c in spec.columns] == list(frame.columns)
    assert SIDECAR_NAME in FILES and ECDF_NAME in FILES
    facts = json.loads((tmp_path / SIDECAR_NAME).read_text(encoding="utf-8"))
    assert facts["kind"] == "supportsim backtest" and facts["policy"] == "tiered"
    assert (facts["replications"], facts["confidence"], facts["seed"]) == (3, 0.95, 3)
    assert facts["window"]["tickets"] == 400 and facts["kpis_within"] == 1 and facts["kpis_compared"] == 2
    assert facts["files"] == {CSV_NAME: {"sha256": [sha(tmp_path / CSV_NAME)]},
                              ECDF_NAME: {"sha256": [sha(tmp_path / ECDF_NAME)]}}


def test_its_own_outputs_are_replaced_and_an_old_format_directory_is_still_ours(tmp_path):
    write_outputs(small("tiered"), tmp_path)
    write_outputs(small("swarming"), tmp_path)                # ours: replaced
    assert json.loads((tmp_path / SIDECAR_NAME).read_text())["policy"] == "swarming"
    old = tmp_path / "old"
    old.mkdir()
    (old / CSV_NAME).write_text("# supportsim backtest: policy tiered, 2 replications, 95% CI\n"
                                + ",".join(COLUMNS) + "\narrivals_per_day,1,1,1,1,0,True\n", encoding="utf-8")
    check_outputs(old)                                        # the earlier format: ours, no sidecar needed
    write_outputs(small(), old)
    assert list(pd.read_csv(old / CSV_NAME).columns) == COLUMNS


def test_an_interrupted_write_leaves_files_that_are_still_recognised(tmp_path):
    write_outputs(small("tiered"), tmp_path)
    first = (tmp_path / CSV_NAME).read_bytes()
    write_outputs(small("swarming"), tmp_path)
    # as if killed after the first sidecar: the sidecar lists both, the csv is still the old one
    facts = json.loads((tmp_path / SIDECAR_NAME).read_text())
    facts["files"][CSV_NAME]["sha256"].append(hashlib.sha256(first).hexdigest())
    (tmp_path / SIDECAR_NAME).write_text(json.dumps(facts), encoding="utf-8")
    (tmp_path / CSV_NAME).write_bytes(first)
    check_outputs(tmp_path)


@pytest.mark.parametrize("name, text", [
    (CSV_NAME, "kpi,mine\n"),                                       # somebody's own table
    (SIDECAR_NAME, '{"kind": "my notes"}'),                         # somebody's own JSON
    (ECDF_NAME, "not a png of ours"),
])
def test_a_file_supportsim_did_not_write_is_never_replaced(tmp_path, name, text):
    (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(LogError) as exc:
        write_outputs(small(), tmp_path)
    assert "not written by a supportsim backtest" in str(exc.value) and "\n" not in str(exc.value)
    assert (tmp_path / name).read_text(encoding="utf-8") == text
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]     # nothing else written either


def test_a_csv_changed_since_supportsim_wrote_it_is_not_ours_any_more(tmp_path):
    write_outputs(small(), tmp_path)
    edited = (tmp_path / CSV_NAME).read_text(encoding="utf-8") + "my_kpi,1,1,1,1,0,True\n"
    (tmp_path / CSV_NAME).write_text(edited, encoding="utf-8")
    with pytest.raises(LogError, match="changed since"):
        check_outputs(tmp_path)
    assert (tmp_path / CSV_NAME).read_text(encoding="utf-8") == edited
