"""What an agent is doing: the engine's activity codes and their trace names."""
from __future__ import annotations


class Phase:
    IDLE, RESOLVE, DIAGNOSE, HANDOFF, HOLD, SWARM, HELP, SWITCH, SEARCH = range(9)
    NAMES = ("idle", "work", "diagnose", "handoff", "hold", "swarm_work", "help", "context_switch",
             "swarm_search")
