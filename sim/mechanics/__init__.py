"""Optional engine mechanics of the "operating reality" features.

Each module is a mixin of :class:`sim.engine.Engine` holding the mechanics of
one feature, so ``engine.py`` keeps the core state machine readable.  Every
feature is off unless its scenario keys (or a policy decision) switch it on,
and when off the engine pays at most a cheap branch for it:

- :mod:`.calendar`: the scenario clock, shift windows (pure functions).
- :mod:`.shifts`: teams going on and off duty; finishing or handing over work.
- :mod:`.interruptions`: swarm helpers pulled off their own work
  (``Swarm.mode``), context switches on resuming it, ``idle_only`` helpers.
- :mod:`.learning`: agents learning skills from swarms and escalations.
- :mod:`.reopen`: failed resolutions and customers coming back.
"""
