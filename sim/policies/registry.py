"""Finding policies by name: built-ins, installed plug-ins, explicit ``--plugin`` classes.

Three ways a policy becomes available, in the order names are resolved:

1. **Built-ins** (``sim/policies/*.py``), registered on first use.
2. **Explicit classes**: ``--plugin package.module:ClassName`` on the command
   line (:func:`load_plugin`) or :func:`register` from Python.
3. **Installed plug-ins**: packages declaring an entry point in the group
   ``supportsim.policies`` whose name is the policy's name, e.g. in their
   ``pyproject.toml``::

       [project.entry-points."supportsim.policies"]
       follow_the_sun = "fts_policy:FollowTheSun"

   An entry point is imported only when its name is asked for (or when
   ``run_sim.py policies`` lists everything installed).

A scenario file only *names* policies.  A name can resolve to a built-in or
to code the user installed or passed on the command line, never to a module
path written in the file, so opening someone else's YAML cannot import or run
arbitrary code.
"""
from __future__ import annotations

import importlib
import os
import sys
import threading
from importlib import metadata

from .. import scenario as _scenario
from .base import Policy, policy_problems

ENTRY_POINT_GROUP = "supportsim.policies"

_BUILTIN: dict[str, type[Policy]] = {}
_EXTRA: dict[str, type[Policy]] = {}
_SOURCE: dict[str, str] = {}     # policy name -> where it came from (for listings)
_ORIGIN: dict[str, dict[str, str]] = {}   # policy name -> how to load it again (meta.json)


class PluginError(ValueError):
    """A plug-in could not be loaded or is not a valid policy (one line, names the plug-in)."""


def register(cls: type[Policy], builtin: bool = False, source: str = "registered from Python"
             ) -> type[Policy]:
    """Make ``cls`` available under ``cls.name``; returns ``cls`` (usable as a decorator).

    Registering the same class twice is harmless; a second class under a name
    already taken (in particular a built-in's) is an error.
    """
    problems = policy_problems(cls)
    if problems:
        raise PluginError("; ".join(problems))
    name = cls.name
    if not builtin:
        _load_builtins()
    taken = _BUILTIN.get(name) or _EXTRA.get(name)
    if taken is not None and taken is not cls:
        kind = "a built-in policy" if name in _BUILTIN else f"{_qualname(taken)} ({_SOURCE.get(name)})"
        raise PluginError(f"cannot register {_qualname(cls)}: the policy name {name!r} is already "
                          f"taken by {kind}; choose another name")
    (_BUILTIN if builtin else _EXTRA)[name] = cls
    _SOURCE.setdefault(name, "built-in" if builtin else source)
    return cls


def unregister(name: str) -> None:
    """Forget a non-built-in policy (tests and notebooks that redefine a class)."""
    _EXTRA.pop(name, None)
    if name not in _BUILTIN:
        _SOURCE.pop(name, None)
        _ORIGIN.pop(name, None)


_LOADED = False
_LOADING = threading.RLock()     # threads (Dask workers) may look a name up at the same time


def _load_builtins() -> None:
    if _LOADED:
        return
    with _LOADING:
        _load_builtins_locked()


def _load_builtins_locked() -> None:
    """Import the built-in modules once; ``_LOADED`` is set only when they are all registered
    (set before, a second thread would see an empty registry: "unknown policy 'tiered'")."""
    global _LOADED, _IMPORTING
    if _LOADED or _IMPORTING:       # _IMPORTING: a built-in module asked while being imported
        return
    _IMPORTING = True
    try:
        _import_builtins()
        _LOADED = True
    finally:
        _IMPORTING = False


_IMPORTING = False


def _import_builtins() -> None:
    # import order is listing order: the baseline (tiered) first
    from . import tiered  # noqa: F401  (modules register themselves)
    from . import skill_routing  # noqa: F401
    from . import swarming  # noqa: F401
    from . import tiered_warm_handoff  # noqa: F401
    from . import tiered_skip  # noqa: F401
    from . import tiered_pull  # noqa: F401
    # listing order does not depend on which module someone imported first
    order = ("tiered", "skill_routing", "swarming", "tiered_warm_handoff", "tiered_skip", "tiered_pull")
    ranked = sorted(_BUILTIN.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order))
    _BUILTIN.clear()
    _BUILTIN.update(ranked)


def load_plugin(spec: str) -> type[Policy]:
    """Import ``package.module:ClassName`` (or ``path/to/file.py:ClassName``) and register the class.

    The current directory is searched after ``sys.path``, so a policy in
    ``./my_policy.py`` loads as ``my_policy:MyPolicy``; a file given by path is
    imported under its file name (``my_policy``), so process-pool workers find
    the class the same way.  Where the class came from is remembered
    (:func:`provenance`) so a saved result can load it again.
    """
    module_name, sep, attr = spec.rpartition(":") if _is_path_spec(spec) else spec.partition(":")
    if not sep or not module_name or not attr:
        raise PluginError(f"--plugin {spec!r}: expected package.module:ClassName or path/to/file.py:ClassName")
    path = None
    if _is_path_spec(spec):
        path = os.path.abspath(module_name)
        obj = _import_file(spec, path)
        module_name = obj.__name__
    else:
        cwd = os.getcwd()
        if cwd not in sys.path and "" not in sys.path:
            sys.path.append(cwd)
        try:
            obj = importlib.import_module(module_name)
        except Exception as exc:  # the plug-in's own import errors, reported in one line
            raise PluginError(f"--plugin {spec!r}: cannot import {module_name!r} "
                              f"({type(exc).__name__}: {exc})") from exc
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise PluginError(f"--plugin {spec!r}: module {module_name!r} has no {attr!r}") from None
    problems = policy_problems(obj)
    if problems:
        raise PluginError(f"--plugin {spec!r}: " + "; ".join(problems))
    again = f"{path}:{attr}" if path else spec       # loadable from any directory
    cls = register(obj, source=f"--plugin {again}")
    origin = {"policy": cls.name, "class": f"{cls.__module__}:{cls.__qualname__}", "plugin": again}
    module_file = path or getattr(sys.modules.get(cls.__module__), "__file__", None)
    if module_file:
        origin["path"] = os.path.abspath(module_file)
    _ORIGIN.setdefault(cls.name, origin)
    return cls


def _is_path_spec(spec: str) -> bool:
    """``dir/file.py:Class`` or ``file.py:Class`` (a file), not ``package.module:Class``."""
    module = spec.rpartition(":")[0] if spec.count(":") > 1 else spec.partition(":")[0]
    return module.endswith(".py") or "/" in module or os.sep in module


def _import_file(spec: str, path: str):
    """Import the module in file ``path`` under its file name (one line if that fails)."""
    import importlib.util

    if not os.path.isfile(path):
        raise PluginError(f"--plugin {spec!r}: no such file {path}")
    name = os.path.splitext(os.path.basename(path))[0]
    if not name.isidentifier():
        raise PluginError(f"--plugin {spec!r}: the file name must be a Python module name "
                          f"(letters, digits, _), got {name!r}")
    loaded = sys.modules.get(name)
    if loaded is not None:
        if os.path.abspath(getattr(loaded, "__file__", "") or "") == path:
            return loaded
        raise PluginError(f"--plugin {spec!r}: a different module named {name!r} is already "
                          f"imported ({getattr(loaded, '__file__', 'built in')}); rename the file")
    module_spec = importlib.util.spec_from_file_location(name, path)
    if module_spec is None or module_spec.loader is None:
        raise PluginError(f"--plugin {spec!r}: cannot import {path}")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module          # pickling the class by reference finds it (pool workers)
    try:
        module_spec.loader.exec_module(module)
    except Exception as exc:  # the plug-in's own import errors, reported in one line
        sys.modules.pop(name, None)
        raise PluginError(f"--plugin {spec!r}: cannot import {path} ({type(exc).__name__}: {exc})") from exc
    return module


def _entry_points() -> list[metadata.EntryPoint]:
    return sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)


def _load_entry_point(ep: metadata.EntryPoint) -> type[Policy]:
    dist = getattr(ep, "dist", None)
    origin = f"entry point {ep.name!r} ({ep.value}" + (
        f", from {dist.metadata['Name']} {dist.version})" if dist is not None else ")")
    try:
        cls = ep.load()
    except Exception as exc:
        raise PluginError(f"installed policy {origin}: cannot load "
                          f"({type(exc).__name__}: {exc})") from exc
    problems = policy_problems(cls)
    if problems:
        raise PluginError(f"installed policy {origin}: " + "; ".join(problems))
    if cls.name != ep.name:
        raise PluginError(f"installed policy {origin}: the class's name is {cls.name!r}; the entry "
                          "point must be named after the policy")
    registered = register(cls, source=origin)
    _ORIGIN.setdefault(cls.name, {"policy": cls.name, "class": ep.value.replace(" ", ""),
                                  "entry_point": ep.name})
    return registered


def get(name: str) -> type[Policy] | None:
    """The policy class called ``name``, or None if there is none.

    Raises :class:`PluginError` if ``name`` is an installed plug-in that fails to load.
    """
    _load_builtins()
    cls = _BUILTIN.get(name) or _EXTRA.get(name)
    if cls is not None:
        return cls
    for ep in _entry_points():
        if ep.name == name:
            return _load_entry_point(ep)
    return None


def builtin_names() -> list[str]:
    """Built-in policies, baseline first."""
    _load_builtins()
    return list(_BUILTIN)


#: what a scenario without a ``policies:`` key runs: the three operating models the simulator
#: compares (``tiered_warm_handoff`` is a what-if of ``tiered``, run when asked for); the
#: scenario layer owns the tuple, since a scenario file's meaning must not depend on policy code
DEFAULT_POLICIES = _scenario.DEFAULT_POLICIES


def default_names() -> list[str]:
    """The policies a scenario runs when it lists none."""
    return list(DEFAULT_POLICIES)


def plugin_names() -> list[str]:
    """Explicitly loaded and installed (entry point) policies, loaded or not."""
    _load_builtins()
    out = [n for n in _EXTRA if n not in _BUILTIN]
    out += [ep.name for ep in _entry_points() if ep.name not in _BUILTIN and ep.name not in out]
    return out


def names() -> list[str]:
    """Every policy name a scenario may use."""
    return builtin_names() + plugin_names()


def source(name: str) -> str:
    """Where policy ``name`` came from (built-in, --plugin, entry point...)."""
    return _SOURCE.get(name, "")


def provenance(policies) -> list[dict[str, str]]:
    """How to load each non-built-in policy of ``policies`` again (recorded in ``meta.json``).

    One mapping per plug-in: ``policy``, ``class`` (``module:Class``), and
    ``plugin`` (the ``--plugin`` argument that loads it from anywhere: a
    module path, or an absolute file path for ``file.py:Class``), ``path`` (the
    module's file) and ``entry_point`` (for installed plug-ins) where known.
    """
    _load_builtins()
    out = []
    for name in map(str, policies):
        if name in _BUILTIN:
            continue
        origin = dict(_ORIGIN.get(name) or {})
        cls = _EXTRA.get(name)
        if not origin and cls is not None:
            origin = {"policy": name, "class": f"{cls.__module__}:{cls.__qualname__}"}
            module_file = getattr(sys.modules.get(cls.__module__), "__file__", None)
            if module_file:
                origin["path"] = os.path.abspath(module_file)
            if _SOURCE.get(name, "").startswith("entry point"):
                origin["entry_point"] = name
        if origin:
            out.append(origin)
    return out


def load_recorded(origins) -> list[str]:
    """Load the plug-ins a saved result recorded (:func:`provenance`); one problem line each.

    Policies already known (built-in, installed, or given with ``--plugin``
    again) are left as they are.
    """
    problems = []
    for origin in origins or []:
        if not isinstance(origin, dict):
            continue
        name, spec = str(origin.get("policy", "")), origin.get("plugin")
        try:
            if name and get(name) is not None:
                continue
        except PluginError as exc:
            problems.append(str(exc))
            continue
        if not spec:
            problems.append(f"policy {name!r} ({origin.get('class', '?')}) was registered from Python; "
                            "load it the same way (or with --plugin MODULE:CLASS) before rebuilding")
            continue
        try:
            load_plugin(str(spec))
        except PluginError as exc:
            problems.append(f"{exc} (recorded in meta.json; pass --plugin to load it from elsewhere)")
    return problems


def load_installed() -> tuple[list[type[Policy]], list[str]]:
    """Load every installed plug-in: (classes, one problem line per plug-in that failed)."""
    _load_builtins()
    classes, problems = [], []
    for ep in _entry_points():
        if ep.name in _BUILTIN:
            problems.append(f"installed policy entry point {ep.name!r} ({ep.value}) is ignored: "
                            "the name belongs to a built-in policy")
            continue
        try:
            classes.append(_load_entry_point(ep))
        except PluginError as exc:
            problems.append(str(exc))
    return classes, problems


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


class _RegistryCatalogue:
    """The registry as scenario validation sees it (:class:`sim.scenario.PolicyCatalogue`)."""

    def get(self, name: str) -> type[Policy] | None:
        return get(name)

    def names(self) -> list[str]:
        return names()


#: pass this to ``load_scenario(..., policies=...)`` to validate against the registry explicitly
CATALOGUE = _RegistryCatalogue()
# validation given no catalogue uses the registry: the scenario layer never imports policy code,
# the registry hands itself down when it is imported (``import sim`` always imports it)
_scenario.use_policy_catalogue(CATALOGUE)
