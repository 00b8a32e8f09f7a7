"""Engine features attach through declared moments with declared state (issue 11.5).

A feature (sim/mechanics/features.py) may use only the engine attributes it names in
``uses``, acts only at moments the engine names, and is created only when its scenario keys
switch it on.  These tests read the features' source, so an undeclared dependency fails here
rather than surprising the next person who changes the engine.
"""
from __future__ import annotations

import ast
import inspect
import textwrap

import pytest

from sim import scenario_from_dict
from sim.engine import Engine, run_replication
from sim.mechanics.features import MOMENTS, Feature, feature_classes
from sim.models.trace import TraceRecord
from sim.policies import registry
from sim.schema.vocabulary import TRACE_ACTIVITIES

from conftest import three_tier_dict


def _engine_attributes_used(cls: type) -> set[str]:
    """Every ``self.engine.<name>`` and ``<local bound to self.engine>.<name>`` in the class."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    aliases = {"e", "engine"}   # the features' convention: e = self.engine (engine in __init__)
    used: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            base = node.value
            if (isinstance(base, ast.Attribute) and base.attr == "engine"
                    and isinstance(base.value, ast.Name) and base.value.id == "self"):
                used.add(node.attr)
            elif isinstance(base, ast.Name) and base.id in aliases:
                used.add(node.attr)
    return used


@pytest.mark.parametrize("cls", feature_classes(), ids=lambda c: c.name)
def test_a_feature_uses_only_what_it_declares(cls):
    undeclared = _engine_attributes_used(cls) - cls.uses
    assert not undeclared, f"{cls.__name__} uses engine attributes it does not declare: {undeclared}"
    engine_names = set(dir(Engine)) | set(inspect.signature(Engine.__init__).parameters)
    src = inspect.getsource(Engine)
    for name in cls.uses:        # every declared name exists on the engine
        assert name in engine_names or f"self.{name} =" in src or f"self.{name}:" in src, name


@pytest.mark.parametrize("cls", feature_classes(), ids=lambda c: c.name)
def test_a_feature_acts_only_at_named_moments(cls):
    public = {n for n, v in vars(cls).items() if callable(v) and not n.startswith("_")}
    assert public - {"wanted", "result"} <= set(MOMENTS), public - set(MOMENTS)
    assert public & set(MOMENTS), f"{cls.__name__} acts at no moment"


def test_features_are_created_only_when_switched_on():
    scn = scenario_from_dict(three_tier_dict(), "plain")
    e = Engine(scn, registry.get("tiered"), registry.get("tiered").Params(), 0, 1)
    assert e.features == [] and not e._on_resolved and not e._on_horizon
    d = three_tier_dict()
    d["issues"][0].update(reopen_probability=0.2, reopen_delay={"dist": "fixed", "value": 30})
    d["learning"] = {"swarms_to_learn": 2, "up_to_tier": 2}
    scn = scenario_from_dict(d, "both")
    e = Engine(scn, registry.get("swarming"), registry.get("swarming").Params(), 0, 1)
    assert sorted(f.name for f in e.features) == ["learning", "reopens"]
    assert issubclass(type(e.features[0]), Feature)


def test_trace_records_are_typed_and_use_catalogue_names():
    d = three_tier_dict()
    d["issues"][0].update(reopen_probability=0.2, reopen_delay={"dist": "fixed", "value": 30})
    scn = scenario_from_dict(d, "traced")
    run = run_replication(scn, "swarming", 0, trace=True)
    assert run.trace and all(type(r) is TraceRecord for r in run.trace)
    assert {r.activity for r in run.trace} <= set(TRACE_ACTIVITIES)
    assert any(r.activity == "reopened" for r in run.trace)
    first = run.trace[0]
    assert (first.start, first.ticket, first.activity) == (first[0], first[2], first[3])


def test_every_optional_mechanic_is_a_feature_created_only_when_wanted():
    """Shifts, search, helper fit are created from scenario keys; interruptions on the first
    interrupt swarm (a policy decision), and each acts only through its moments."""
    names = {cls.name for cls in feature_classes()}
    assert {"learning", "reopens", "swarm_search", "helper_fit", "interruptions", "shifts"} <= names
    d = three_tier_dict()
    d["teams"][0]["shift"] = {"start": 8, "end": 17}
    d["frictions"] = {**d.get("frictions", {}), "swarm_search": {"dist": "fixed", "value": 2},
                      "swarm_helper_fit": 0.5}
    scn = scenario_from_dict(d, "on")
    cls = registry.get("swarming")
    e = Engine(scn, cls, cls.Params(helper_mode="interrupt"), 0, 1)
    assert sorted(f.name for f in e.features) == ["helper_fit", "shifts", "swarm_search"]
    assert e._hooked and e._on_released and not e._on_no_helper_free
    e.run()
    assert "interruptions" in {f.name for f in e.features}      # attached by the first request
    assert e._on_no_helper_free and e._on_switch_done
    plain = Engine(scenario_from_dict(three_tier_dict(), "off"), cls, cls.Params(), 0, 1)
    assert plain.features == [] and not plain._hooked and not plain._on_help_wanted
