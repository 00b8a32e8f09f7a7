"""Every snippet of docs/writing-a-policy.md runs, in order, as written.

Python blocks share one namespace (a block starting ``# file: NAME`` is written
to that file instead); bash blocks run in a shell; the TOML block's entry point
must resolve to the tutorial's class.  All of it happens in a temporary
directory that looks like the project root (``run_sim.py`` and ``scenarios/``).
"""
from __future__ import annotations

import importlib
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from sim.policies import registry

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "writing-a-policy.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```\s*$", re.S | re.M)


def blocks() -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(DOC.read_text(encoding="utf-8"))]


def test_the_tutorial_has_python_bash_and_toml_blocks():
    kinds = [kind for kind, _ in blocks()]
    assert kinds.count("python") >= 5 and "bash" in kinds and "toml" in kinds
    assert set(kinds) <= {"python", "bash", "toml"}, "a block of a kind the test would not run"


def _commands(script: str) -> list[str]:
    lines, out = script.replace("\\\n", " ").splitlines(), []
    return [line for line in lines if line.strip() and not line.lstrip().startswith("#")] or out


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "run_sim.py").symlink_to(ROOT / "run_sim.py")
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios", target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(registry.plugin_names())
    yield tmp_path
    for name in set(registry.plugin_names()) - before:
        registry.unregister(name)
    for mod in [m for m in sys.modules if m == "vip_lane"]:
        del sys.modules[mod]


def test_every_snippet_runs_in_order(project, capsys):
    namespace: dict = {"__name__": "tutorial"}
    ran = {"python": 0, "bash": 0, "toml": 0}
    for kind, code in blocks():
        first = code.splitlines()[0]
        if kind == "python" and first.startswith("# file: "):
            (project / first[len("# file: "):].strip()).write_text(code, encoding="utf-8")
            importlib.invalidate_caches()
        elif kind == "python":
            exec(compile(code, f"{DOC.name} block {sum(ran.values()) + 1}", "exec"), namespace)
        elif kind == "bash":
            for command in _commands(code):
                proc = subprocess.run(shlex.split(command), cwd=project, capture_output=True,
                                      text=True, timeout=300,
                                      env={**os.environ, "PYTHONPATH": str(ROOT)})
                assert proc.returncode == 0, f"{command}\n{proc.stdout}\n{proc.stderr}"
                if "policies" in command:
                    assert "vip_lane: tiered, but chosen segments skip tier 1" in proc.stdout
                    assert "triage_accuracy (float, >= 0, <= 1, default 0.9)" in proc.stdout
                else:
                    assert "vip_lane" in proc.stdout and "tiered" in proc.stdout
        elif kind == "toml":
            entry = tomllib.loads(code)["project"]["entry-points"]["supportsim.policies"]
            for name, target in entry.items():
                module, _, attr = target.partition(":")
                cls = getattr(importlib.import_module(module), attr)
                assert cls.name == name
        ran[kind] += 1
    assert all(ran.values()), ran
    out = capsys.readouterr().out
    assert "rule 'handoffs make progress' broken" in out
