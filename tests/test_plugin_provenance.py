"""Issue 11.6: validation is given the known policies; meta.json records where each plug-in came
from; ``report DIR`` loads it again (no --plugin needed) and its reproduce command carries it."""
from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import three_tier_dict
from sim import scenario_from_dict
from sim.policies import registry
from sim.scenario import ScenarioError

ROOT = Path(__file__).resolve().parents[1]

PLUGIN = '''
from sim.policies import registry
registry.builtin_names()
from sim.policies.tiered import Tiered


class FromAFile(Tiered):
    """Tiered under another name, loaded from a file path."""
    name = "from_a_file"
'''


def test_validation_uses_the_policies_it_is_given():
    registry.builtin_names()
    from sim.policies.tiered import Tiered

    data = three_tier_dict()
    scenario_from_dict(data)                                      # default: the registry
    with pytest.raises(ScenarioError) as exc:
        scenario_from_dict(data, policies={"tiered": Tiered})     # only what it is given
    assert "policies.swarming: unknown policy; available: tiered" in str(exc.value)
    assert scenario_from_dict(three_tier_dict(policies={"tiered": {}}), policies={"tiered": Tiered})


def test_the_scenario_layer_does_not_import_policy_code():
    import ast

    tree = ast.parse((ROOT / "sim" / "scenario.py").read_text(encoding="utf-8"))
    imported = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not [m for m in imported if "polic" in m], imported


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "run_sim.py"), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=240)


def test_meta_records_a_file_plugin_and_report_dir_rebuilds_with_it(tmp_path):
    plug_dir = tmp_path / "mine"
    plug_dir.mkdir()
    (plug_dir / "file_policy.py").write_text(PLUGIN, encoding="utf-8")
    scn = tmp_path / "scn.yaml"
    scn.write_text(yaml.safe_dump(three_tier_dict(horizon={"days": 0.5, "warmup_days": 0.1},
                                                  replications=2, policies={"tiered": {}})),
                   encoding="utf-8")
    out = tmp_path / "res"
    proc = _cli("run", str(scn), "--plugin", "mine/file_policy.py:FromAFile", "--out", str(out),
                "--workers", "2", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    meta = json.loads((out / "meta.json").read_text(encoding="utf-8"))
    [origin] = meta["plugins"]
    assert origin["policy"] == "from_a_file" and origin["class"] == "file_policy:FromAFile"
    assert origin["plugin"] == f"{plug_dir / 'file_policy.py'}:FromAFile"     # absolute: works anywhere
    assert origin["path"] == str(plug_dir / "file_policy.py")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = _cli("report", str(out), cwd=elsewhere)          # no --plugin given
    assert proc.returncode == 0, proc.stderr
    assert "loaded plug-in 'from_a_file'" in proc.stderr
    md = next(out.glob("*.md"))
    line = next(ln for ln in md.read_text(encoding="utf-8").splitlines() if "supportsim run" in ln)
    cmd = shlex.split(line[line.index("supportsim run"):].strip("`"))
    assert cmd[cmd.index("--plugin") + 1] == origin["plugin"]


def test_report_dir_says_in_one_line_when_a_recorded_plugin_is_gone(tmp_path):
    plug = tmp_path / "gone_policy.py"
    plug.write_text(PLUGIN.replace("from_a_file", "gone_later"), encoding="utf-8")
    scn = tmp_path / "scn.yaml"
    scn.write_text(yaml.safe_dump(three_tier_dict(horizon={"days": 0.3, "warmup_days": 0.05},
                                                  replications=1, policies={"tiered": {}})),
                   encoding="utf-8")
    out = tmp_path / "res"
    assert _cli("run", str(scn), "--plugin", f"{plug}:FromAFile", "--out", str(out), "--no-report",
                cwd=tmp_path).returncode == 0
    plug.unlink()
    proc = _cli("report", str(out), cwd=tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "no such file" in errors[0] and "meta.json" in errors[0], proc.stderr
