"""Third-party policies: --plugin, the supportsim.policies entry point, and safe scenario files.

An external package is written to a temporary directory; it is used the way a
researcher would: imported through ``--plugin`` (also with ``--workers 2``),
installed as a distribution with an entry point (a dist-info directory on the
path, exactly what pip writes), and checked with the conformance kit.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.cli import main
from sim.policies import registry
from sim.testing import check_policy

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "scenarios" / "default.yaml"

POLICY_SOURCE = '''
"""An external policy package (written by the tests)."""
from pydantic import Field

from sim.policies import HandOff, Policy, PolicyParams


class ShortestQueueParams(PolicyParams):
    spill_over: int = Field(default=3, ge=0, description="queue length at which tickets spill "
                                                         "over to the next qualified team")


class ShortestQueue(Policy):
    """Perfect triage to the lowest qualified team, spilling over to a higher one when busy."""

    name = "shortest_queue"
    summary = "lowest qualified team, or the next one up when its queue is long"
    Params = ShortestQueueParams

    def route(self, ticket):
        teams = self.org.qualified(ticket.tier, ticket.skill)
        for team in teams[:-1]:
            if self.org.queue_length(team.name) <= self.params.spill_over:
                return team.name
        return teams[-1].name

    def on_cannot_resolve(self, ticket, agent):
        return HandOff(to=self.org.qualified(ticket.tier, ticket.skill)[0].name)
'''

BROKEN_SOURCE = '''
from sim.policies.tiered import Tiered


class RoutesNowhere(Tiered):
    name = "routes_nowhere"

    def route(self, ticket):
        return "nowhere"


class ClaimsTiered(Tiered):
    name = "tiered"
'''

MARKER_SOURCE = '''
import os
open(os.environ["SUPPORTSIM_MARKER"], "w").write("imported")


class Boom:
    name = "boom"
'''


@pytest.fixture(scope="module")
def ext(tmp_path_factory) -> Path:
    """A directory holding the package ``supportsim_ext`` (policies, broken, marker)."""
    src = tmp_path_factory.mktemp("ext")
    pkg = src / "supportsim_ext"
    pkg.mkdir()
    (pkg / "__init__.py").write_text('"""External supportsim policies."""\n')
    (pkg / "policies.py").write_text(POLICY_SOURCE)
    (pkg / "broken.py").write_text(BROKEN_SOURCE)
    (pkg / "marker.py").write_text(MARKER_SOURCE)
    return src


@pytest.fixture(scope="module")
def installed(tmp_path_factory, ext) -> Path:
    """A site directory where ``supportsim-ext`` is installed with an entry point, as pip lays it out."""
    site = tmp_path_factory.mktemp("site")
    (site / "supportsim_ext").symlink_to(ext / "supportsim_ext", target_is_directory=True)
    info = site / "supportsim_ext-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: supportsim-ext\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[supportsim.policies]\nshortest_queue = supportsim_ext.policies:ShortestQueue\n")
    (info / "RECORD").write_text("")
    return site


def _cli(args: list[str], pythonpath: Path, tmp_path: Path, **env) -> subprocess.CompletedProcess:
    environ = {**os.environ, "PYTHONPATH": f"{pythonpath}{os.pathsep}{ROOT}", **env}
    return subprocess.run([sys.executable, str(ROOT / "run_sim.py"), *args], cwd=tmp_path,
                          env=environ, capture_output=True, text=True, timeout=300)


@pytest.fixture
def clean_registry():
    before = set(registry.plugin_names())
    yield
    for name in set(registry.plugin_names()) - before:
        registry.unregister(name)


# ------------------------------------------------------------------ --plugin


def test_plugin_runs_beside_the_builtins_in_parallel_workers(ext, tmp_path, monkeypatch,
                                                             clean_registry):
    out = tmp_path / "out"
    args = ["run", str(DEFAULT), "--plugin", "supportsim_ext.policies:ShortestQueue",
            "--days", "2", "--replications", "2"]
    proc = _cli([*args, "--workers", "2", "--out", str(out)], ext, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "shortest_queue" in proc.stdout and "Traceback" not in proc.stderr
    tickets = pd.read_parquet(out / "tickets.parquet")
    assert set(tickets["policy"].astype(str)) == {"tiered", "skill_routing", "swarming",
                                                  "shortest_queue"}
    plugin = tickets[tickets["policy"] == "shortest_queue"]
    tiered = tickets[tickets["policy"] == "tiered"]
    # the same customers under the plug-in as under the built-ins (common random numbers)
    assert plugin["ticket_id"].min() == tiered["ticket_id"].min()
    assert (plugin["handoffs"] == 0).all()          # perfect triage: nobody hands off
    # one worker (in this process) gives the identical table
    monkeypatch.syspath_prepend(str(ext))
    one = tmp_path / "one"
    assert main([*args, "--policy", "shortest_queue", "--out", str(one)]) == 0
    single = pd.read_parquet(one / "tickets.parquet")
    pd.testing.assert_frame_equal(single.reset_index(drop=True),
                                  plugin.reset_index(drop=True), check_categorical=False)


def test_conformance_kit_passes_the_external_policy(ext, monkeypatch, clean_registry):
    monkeypatch.syspath_prepend(str(ext))
    cls = registry.load_plugin("supportsim_ext.policies:ShortestQueue")
    check_policy(cls, max_examples=8)
    check_policy(cls, {"spill_over": 0}, max_examples=4)


def test_policies_command_lists_plugin_parameters(ext, capsys, monkeypatch, clean_registry):
    monkeypatch.syspath_prepend(str(ext))
    assert main(["policies", "--plugin", "supportsim_ext.policies:ShortestQueue"]) == 0
    out = capsys.readouterr().out
    assert "tiered_warm_handoff: " in out and "writeup_overhead (float, >= 0, default 0.0)" in out
    assert "shortest_queue: lowest qualified team" in out
    assert "[plug-in: --plugin supportsim_ext.policies:ShortestQueue]" in out
    assert "spill_over (int, >= 0, default 3) - queue length" in out


@pytest.mark.parametrize("spec, message", [
    ("no_such_module:Policy", "--plugin 'no_such_module:Policy': cannot import 'no_such_module'"),
    ("supportsim_ext.policies", "expected package.module:ClassName"),
    ("supportsim_ext.policies:Nope", "module 'supportsim_ext.policies' has no 'Nope'"),
    ("supportsim_ext.policies:ShortestQueueParams", "is not a subclass of sim.policies.Policy"),
    ("supportsim_ext.broken:ClaimsTiered", "'tiered' is already taken by a built-in policy"),
])
def test_bad_plugins_are_one_line_errors(ext, capsys, monkeypatch, clean_registry, spec, message):
    monkeypatch.syspath_prepend(str(ext))
    assert main(["validate", str(DEFAULT), "--plugin", spec]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_a_plugin_breaking_the_rules_stops_the_run_with_one_line(ext, capsys, monkeypatch,
                                                                  clean_registry):
    monkeypatch.syspath_prepend(str(ext))
    code = main(["run", str(DEFAULT), "--plugin", "supportsim_ext.broken:RoutesNowhere",
                 "--policy", "routes_nowhere", "--days", "6", "--replications", "1"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: policy 'routes_nowhere', replication 0, ticket 0 at t=")
    assert "route() returned unknown queue 'nowhere'" in err and "Traceback" not in err


def test_scenario_validation_checks_plugin_parameters(ext, tmp_path, capsys, monkeypatch,
                                                      clean_registry):
    monkeypatch.syspath_prepend(str(ext))
    data = yaml.safe_load(DEFAULT.read_text())
    data["policies"]["shortest_queue"] = {"spill_over": "3", "typo": 1}
    path = tmp_path / "with_plugin.yaml"
    path.write_text(yaml.safe_dump(data))
    assert main(["validate", str(path), "--plugin", "supportsim_ext.policies:ShortestQueue"]) == 2
    err = capsys.readouterr().err
    assert "policies.shortest_queue.spill_over" in err and "policies.shortest_queue.typo" in err


# ------------------------------------------------------------------ installed (entry point)


def test_installed_plugin_is_listed_and_runs_from_a_scenario(installed, tmp_path, capsys,
                                                              monkeypatch, clean_registry):
    monkeypatch.syspath_prepend(str(installed))
    assert main(["policies"]) == 0
    assert ("shortest_queue: lowest qualified team, or the next one up when its queue is long  "
            "[plug-in: entry point 'shortest_queue' (supportsim_ext.policies:ShortestQueue, "
            "from supportsim-ext 0.1)]") in capsys.readouterr().out
    data = yaml.safe_load(DEFAULT.read_text())
    data["policies"] = {"tiered": {}, "shortest_queue": {"spill_over": 1}}
    path = tmp_path / "installed.yaml"
    path.write_text(yaml.safe_dump(data))
    assert main(["run", str(path), "--days", "6", "--replications", "1", "--out",
                 str(tmp_path / "out")]) == 0
    tickets = pd.read_parquet(tmp_path / "out" / "tickets.parquet")
    assert set(tickets["policy"].astype(str)) == {"tiered", "shortest_queue"}


def test_entry_points_resolve_in_process_and_lazily(installed, monkeypatch, clean_registry):
    monkeypatch.syspath_prepend(str(installed))
    monkeypatch.delitem(sys.modules, "supportsim_ext.policies", raising=False)
    assert "shortest_queue" in registry.names()
    assert "supportsim_ext.policies" not in sys.modules     # listed by name, not imported
    cls = registry.get("shortest_queue")
    assert cls is not None and cls.name == "shortest_queue"
    assert "entry point 'shortest_queue'" in registry.source("shortest_queue")


# ------------------------------------------------------------------ scenario files import nothing


HOSTILE = ["supportsim_ext.marker:Boom", "supportsim_ext.marker", "boom"]


def _hostile(tmp_path: Path, name: str) -> Path:
    data = yaml.safe_load(DEFAULT.read_text())
    data["policies"] = {name: {}}
    path = tmp_path / "hostile.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize("name", HOSTILE)
def test_a_scenario_file_cannot_import_code(ext, tmp_path, capsys, monkeypatch, name):
    monkeypatch.syspath_prepend(str(ext))
    monkeypatch.setenv("SUPPORTSIM_MARKER", str(tmp_path / "imported.txt"))
    path = _hostile(tmp_path, name)
    for command in (["validate", str(path)], ["run", str(path), "--days", "1"]):
        assert main(command) == 2
        assert f"policies.{name}: unknown policy" in capsys.readouterr().err
    assert "supportsim_ext.marker" not in sys.modules
    assert not (tmp_path / "imported.txt").exists()


def test_a_scenario_file_cannot_import_code_in_a_fresh_process(ext, tmp_path):
    marker = tmp_path / "imported.txt"
    proc = _cli(["run", str(_hostile(tmp_path, HOSTILE[0])), "--days", "1"], ext, tmp_path,
                SUPPORTSIM_MARKER=str(marker))
    assert proc.returncode == 2 and "unknown policy" in proc.stderr
    assert not marker.exists()


# ------------------------------------------------------------------ a real pip install


def _wheel(ext: Path, out: Path) -> Path:
    """A wheel of ``supportsim-ext`` declaring the entry point (built by hand: no build tools)."""
    import base64
    import hashlib
    import zipfile

    info = "supportsim_ext-0.2.dist-info"
    files = {f"supportsim_ext/{p.name}": p.read_bytes()
             for p in (ext / "supportsim_ext").glob("*.py")}
    files[f"{info}/METADATA"] = b"Metadata-Version: 2.1\nName: supportsim-ext\nVersion: 0.2\n"
    files[f"{info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: supportsim-tests\n"
                              b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    files[f"{info}/entry_points.txt"] = (b"[supportsim.policies]\n"
                                         b"shortest_queue = supportsim_ext.policies:ShortestQueue\n")
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    path = out / "supportsim_ext-0.2-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


def test_pip_installed_package_provides_a_policy(ext, tmp_path):
    wheel = _wheel(ext, tmp_path)
    target = tmp_path / "target"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                          "--no-index", "--target", str(target), str(wheel)],
                         capture_output=True, text=True, timeout=300)
    assert pip.returncode == 0, pip.stderr
    assert (target / "supportsim_ext-0.2.dist-info" / "entry_points.txt").exists()
    proc = _cli(["run", str(DEFAULT), "--policy", "tiered", "--policy", "shortest_queue",
                 "--days", "2", "--replications", "1"], target, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "shortest_queue" in proc.stdout
