"""A run plan: scenario variants x policies x replications, as :class:`RunTask` s."""
from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping, Optional, Sequence

from .tasks import RunTask

__all__ = ["plan_runs"]


def plan_runs(variants: Mapping[Any, Any] | Sequence[Any], policies: Sequence[str],
              replications: int, seed: Optional[int] = None, *,
              classes: Optional[Mapping[str, type]] = None, tickets: bool = False,
              **extra: Any) -> Iterator[RunTask]:
    """Every (variant, policy, replication) task, variant-major, lazily.

    ``variants``: scenarios, as a mapping ``label -> scenario`` or a sequence
    (labels 0, 1, ...).  Keys are ``(label, policy, replication)``.  ``seed``:
    one seed for every variant (common random numbers across variants, as a
    staffing search wants); ``None`` uses each variant's own ``seed``.
    ``classes`` maps policy names to classes (plug-ins resolved by the caller,
    so workers need no registry).  ``extra``: further :class:`RunTask` fields.
    """
    items: Iterable = variants.items() if isinstance(variants, Mapping) else enumerate(variants)
    classes = classes or {}
    for label, scn in items:
        s = scn.seed if seed is None else int(seed)
        for policy in policies:
            for rep in range(int(replications)):
                yield RunTask(key=(label, policy, rep), scenario=scn, policy=policy, replication=rep,
                              seed=s, policy_cls=classes.get(policy), tickets=tickets, **extra)
