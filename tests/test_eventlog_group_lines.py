"""A group rewrite that merges different support lines into one team is refused, or - when a
mapping rule sets the tier on purpose - warned about, naming the groups and their lines.

QA found ``--group-pattern`` merging ``EMEA-desk-L1`` and ``EMEA-db-L3`` into ``EMEA`` silently
at tier 1: the escalations between the lines vanished (0 handoffs) and calibrate exited 0.
"""
from __future__ import annotations

import pandas as pd
import pytest

from sim.cli import main
from sim.eventlog.calibrate import calibrate
from sim.eventlog.reader import LogError, Mapping
from test_eventlog_status import _status_rows

BASE = ["case=id", "activity=Status", "timestamp=When", "group=Team", "resource=Who", "status=Sub"]
PATTERN = r"^(?P<team>[A-Z]+)-"


@pytest.fixture()
def log(tmp_path):
    a = _status_rows(n_cases=20, groups=("EMEA-desk-L1", "EMEA-db-L3"))
    b = _status_rows(n_cases=20, groups=("APAC-desk-L1", "APAC-desk2-L1")).assign(id=lambda d: d["id"] + "-b")
    path = tmp_path / "log.csv"
    pd.concat([a, b]).to_csv(path, index=False)
    return path


def test_group_pattern_merging_lines_is_one_line_naming_flag_groups_and_lines(log, capsys):
    with pytest.raises(LogError) as exc:
        calibrate(log, Mapping.build(pairs=BASE, group_pattern=PATTERN))
    msg = str(exc.value)
    assert msg.startswith("--group-pattern: merges groups of different support lines into one team: ")
    assert "EMEA <- EMEA-desk-L1 (line 1), EMEA-db-L3 (line 3)" in msg
    assert "APAC" not in msg                  # two groups of one line merge fine
    assert "tier: N" in msg and "--max-teams" in msg and "\n" not in msg
    argv = ["calibrate", str(log), *sum((["--map", p] for p in BASE), []), "--group-pattern", PATTERN,
            "--out", str(log.parent / "out.yaml")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--group-pattern" in err[0] and "EMEA-db-L3 (line 3)" in err[0]
    assert not (log.parent / "out.yaml").exists()


def test_a_pattern_keeping_the_line_in_the_name_passes(log):
    got = calibrate(log, Mapping.build(pairs=BASE, group_pattern=r"^(?P<team>[A-Z]+-[a-z]+)"))
    tiers = {t["name"]: t["tier"] for t in got.data["teams"]}
    assert tiers["EMEA-desk"] < tiers["EMEA-db"]       # the lines survive as tiers
    assert not any("WARNING" in m for _, m in got.report.lines)


def test_a_mapping_rule_that_sets_the_tier_is_accepted_with_a_warning(log, tmp_path):
    mp = tmp_path / "m.yaml"
    mp.write_text("groups:\n  - {match: '^EMEA', team: EMEA, tier: 1}\n", encoding="utf-8")
    got = calibrate(log, Mapping.build(mp, pairs=BASE))
    assert {t["name"]: t["tier"] for t in got.data["teams"]}["EMEA"] == 1
    (warning,) = [m for _, m in got.report.lines if m.startswith("WARNING")]
    assert f"{mp}: groups[0] merges groups of different support lines" in warning
    assert "EMEA <- EMEA-desk-L1 (line 1), EMEA-db-L3 (line 3)" in warning and "tier 1" in warning
    assert warning in "\n".join(got.report.text(verbose=False))      # shown without --verbose
    # a rule without a tier merging the same lines is refused, naming that rule
    mp.write_text("groups:\n  - {match: '^(EMEA)-'}\n", encoding="utf-8")
    with pytest.raises(LogError, match=r"m\.yaml: groups\[0\]: merges groups of different support lines"):
        calibrate(log, Mapping.build(mp, pairs=BASE))
