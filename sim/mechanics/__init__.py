"""Optional engine mechanics of the "operating reality" features.

Every feature is off unless its scenario keys (or a policy decision) switch it on, and when off
the engine pays at most a cheap branch for it.

- :mod:`.features`: the :class:`~.features.Feature` base and the engine's named moments
  (:data:`~.features.MOMENTS`); a feature declares the engine attributes it uses, keeps its own
  state and acts only at those moments.  The features: :mod:`.reopen` (failed resolutions,
  customers coming back), :mod:`.learning` (agents learning skills from swarms and escalations),
  :mod:`.swarm` (finding a helper, whether they fit), :mod:`.interruptions` (helpers pulled off
  their own work, context switches) and :mod:`.shifts` (teams going on and off duty; finishing
  or handing over work).
- :mod:`.calendar`: the scenario clock, shift windows (pure functions); :mod:`.phases`: activity
  codes.
"""
