"""Tiered support with warm handoffs: the same queue hops, but context travels with the ticket."""
from __future__ import annotations

from pydantic import Field

from .base import HandOff, PolicyParams
from .registry import register
from .tiered import Tiered


class WarmHandoffParams(PolicyParams):
    writeup_overhead: float = Field(
        default=0.0, ge=0,
        description="extra write-up effort of a warm handoff, as a fraction of the scenario's "
                    "handoff friction (0: same effort as a cold handoff)")


class TieredWarmHandoff(Tiered):
    """Exactly ``tiered`` (same queues, same escalation path, same diagnosis),
    except every handoff is warm: the receiving agent gets the case written up
    and the customer never re-explains (no repeats).  The passing agent's
    write-up takes ``handoff draw x (1 + writeup_overhead)``.

    Comparing it with ``tiered`` on the same customers isolates what repeats
    cost from what queue hops cost (see docs/model.md, "Warm handoffs")."""

    name = "tiered_warm_handoff"
    summary = "tiered escalation, but handoffs are warm: context travels, customers never repeat"
    Params = WarmHandoffParams

    def handoff(self, queue: str) -> HandOff:
        return HandOff(to=queue, warm=True, effort=1.0 + self.params.writeup_overhead)


register(TieredWarmHandoff, builtin=True)
