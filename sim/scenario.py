"""Scenarios: plain, validated data describing one support organisation.

A scenario is parsed from YAML with ``yaml.safe_load`` (so a file can never
construct Python objects or run code) and validated by pydantic models that
forbid unknown keys.  Every problem is reported as one line
``<file>: <field path>: <what is wrong / what is allowed>`` so a consultant can
fix a client's file without reading a traceback.

All durations are minutes; money is in the scenario's currency.
"""
from __future__ import annotations

import datetime
import math
import reprlib
import unicodedata
from pathlib import Path
from typing import Annotated, Any, Literal, Mapping, Optional, Protocol

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from .distributions import Distribution, ZERO

__all__ = [
    "Scenario",
    "Segment",
    "IssueType",
    "Team",
    "Frictions",
    "Horizon",
    "Arrivals",
    "Shift",
    "Learning",
    "WEEKDAYS",
    "ScenarioError",
    "load_scenario",
    "scenario_from_dict",
    "scenario_warnings",
    "offered_load",
    "UNSTABLE_LOAD",
]

SHARE_TOLERANCE = 1e-6

# ---- documented bounds (docs/scenario.md "Limits"): every number is finite and within these,
# so a file that validates can neither overflow the engine nor ask for unbounded memory
MAX_DAYS = 3660.0                 # ten years of simulated time per replication
MAX_REPLICATIONS = 100_000
MAX_SEED = 2**63 - 1
MAX_PER_HOUR = 1e6                # the work estimate (sim.workload) bounds the product
MAX_MULTIPLIER = 1000.0           # arrival profile multipliers
MAX_MINUTES = 1e7                 # any duration, target or distribution value (~19 years)
MAX_MONEY = 1e9                   # any rate or penalty
MAX_AGENTS = 10_000               # per team
MAX_TIER = 100
MAX_PRIORITY = 1000
MAX_ITEMS = 1000                  # segments, issue types, teams, skills of a team
MAX_COUNT = 1_000_000             # learning thresholds
MAX_NAME = 200                    # characters in a name or skill
MAX_TEXT = 10_000                 # characters in the description
MAX_REOPEN = 0.99                 # a resolution fails at most this often (else endless returns)
MAX_NUMBER = 1e15                 # any number anywhere in the file (policy parameters too)
MAX_FILE_BYTES = 1_000_000        # a scenario file (pure-Python YAML parsing: ~3 s per MB)
MAX_YAML_DEPTH = 64               # nesting of mappings and lists
MAX_YAML_NODES = 1_000_000        # values after expanding aliases (a "billion laughs" file)
MAX_PROBLEMS = 50                 # lines of one error report (the rest are counted)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True,
                              allow_inf_nan=False)


def _check_name(value: str) -> str:
    """Names are shown, compared and written into CSV, YAML, HTML: printable, non-blank text."""
    if not value.strip():
        raise ValueError("must not be blank")
    bad = next((c for c in value if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp")), None)
    if bad is not None:
        raise ValueError(f"must not contain control or invisible characters (found U+{ord(bad):04X})")
    return value


def _check_text(value: str) -> str:
    """Free text may hold line breaks and tabs (writers escape them), no other control characters."""
    bad = next((c for c in value if unicodedata.category(c) in ("Cc", "Cs") and c not in "\n\r\t"), None)
    if bad is not None:
        raise ValueError(f"must not contain control characters (found U+{ord(bad):04X})")
    return value


def name_key(name: str) -> str:
    """How names are compared for uniqueness: NFKC, case-folded, outer spaces stripped, inner
    runs of spaces as one ('L1', 'l1', 'Ｌ1' and 'L1 ' are the same name)."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME), AfterValidator(_check_name)]


class Horizon(_Model):
    days: float = Field(gt=0, le=MAX_DAYS, description="simulated days per replication")
    warmup_days: float = Field(
        default=0, ge=0, le=MAX_DAYS, description="tickets arriving before this are simulated but not measured"
    )


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _profile_ok(values: Optional[list[float]], n: int) -> Optional[list[float]]:
    if values is None:
        return None
    if len(values) != n:
        raise ValueError(f"needs exactly {n} multipliers, got {len(values)}")
    if any((not math.isfinite(v)) or v < 0 or v > MAX_MULTIPLIER for v in values):
        raise ValueError(f"multipliers must be finite numbers >= 0 and <= {MAX_MULTIPLIER:g}")
    if not any(v > 0 for v in values):
        raise ValueError("at least one multiplier must be > 0 (otherwise nobody ever arrives)")
    return values


class Arrivals(_Model):
    per_hour: float = Field(gt=0, le=MAX_PER_HOUR, description="mean Poisson arrival rate (base rate with a profile)")
    hourly_profile: Optional[list[float]] = Field(
        default=None, description="24 multipliers of per_hour, hour 0 = 00:00-01:00 of the scenario clock"
    )
    weekday_profile: Optional[list[float]] = Field(
        default=None, description="7 multipliers of per_hour, Monday first"
    )

    @field_validator("hourly_profile")
    @classmethod
    def _hourly(cls, v: Optional[list[float]]) -> Optional[list[float]]:
        return _profile_ok(v, 24)

    @field_validator("weekday_profile")
    @classmethod
    def _weekday(cls, v: Optional[list[float]]) -> Optional[list[float]]:
        return _profile_ok(v, 7)

    @property
    def has_profile(self) -> bool:
        return self.hourly_profile is not None or self.weekday_profile is not None

    @property
    def mean_per_hour(self) -> float:
        """Average arrival rate over a week (equals ``per_hour`` without a profile)."""
        h = sum(self.hourly_profile) / 24 if self.hourly_profile is not None else 1.0
        w = sum(self.weekday_profile) / 7 if self.weekday_profile is not None else 1.0
        return self.per_hour * h * w


class Segment(_Model):
    name: Name
    share: float = Field(gt=0, le=1)
    priority: int = Field(default=0, ge=0, le=MAX_PRIORITY, description="lower is served first")
    patience: Optional[Distribution] = Field(
        default=None, description="total queued minutes before the customer abandons; none = never"
    )
    first_response_target: Optional[float] = Field(
        default=None, gt=0, le=MAX_MINUTES, description="minutes to first agent touch (service level)"
    )
    resolution_target: Optional[float] = Field(
        default=None, gt=0, le=MAX_MINUTES, description="minutes from arrival to resolution"
    )
    sla_penalty: float = Field(
        default=0.0, ge=0, le=MAX_MONEY, description="money per breached target (first response and resolution each)"
    )
    customer_cost_per_hour: float = Field(
        default=0.0, ge=0, le=MAX_MONEY, description="value of one hour of the customer's time (waiting + repeating)"
    )


class IssueType(_Model):
    name: Name
    share: float = Field(gt=0, le=1)
    tier: int = Field(ge=1, le=MAX_TIER, description="lowest team tier able to resolve it")
    skill: Name
    work: Distribution = Field(description="minutes a qualified agent needs to resolve it")
    reopen_probability: float = Field(
        default=0.0, ge=0, le=MAX_REOPEN, description="chance a resolution fails and the customer comes back"
    )
    reopen_probability_by_tier: Optional[list[float]] = Field(
        default=None, min_length=1, max_length=MAX_TIER,
        description="chance a resolution fails by the resolver's team tier (first = tier 1; the "
                    "last value applies to higher tiers); overrides reopen_probability",
    )
    reopen_delay: Optional[Distribution] = Field(
        default=None, description="minutes from a failed resolution to the customer coming back"
    )
    reopen_to: Literal["entry", "last_queue"] = Field(
        default="entry",
        description="entry: the policy routes the re-contact like a new ticket; last_queue: back to "
                    "the queue of the agent who resolved it",
    )

    @field_validator("reopen_probability_by_tier")
    @classmethod
    def _by_tier(cls, v: Optional[list[float]]) -> Optional[list[float]]:
        if v is not None and any(not (0 <= p <= MAX_REOPEN) for p in v):
            raise ValueError(f"probabilities must be >= 0 and <= {MAX_REOPEN:g}")
        return v

    @property
    def can_reopen(self) -> bool:
        return self.reopen_probability > 0 or any(p > 0 for p in self.reopen_probability_by_tier or ())

    def reopen_probabilities(self, max_tier: int) -> list[float]:
        """Failure probability of a resolution by the resolver's tier (index = tier)."""
        by = self.reopen_probability_by_tier
        if by is None:
            return [self.reopen_probability] * (max_tier + 1)
        return [0.0] + [by[min(k, len(by)) - 1] for k in range(1, max_tier + 1)]


class Shift(_Model):
    """When a team works, in the team's local time (``utc_offset`` hours from UTC)."""

    start: float = Field(ge=0, lt=24, description="hour the shift starts (8.5 = 08:30)")
    end: float = Field(gt=0, le=24, description="hour it ends; <= start means the next day")
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = Field(
        default_factory=lambda: list(WEEKDAYS), min_length=1,  # type: ignore[arg-type]
        description="days on which a shift starts",
    )
    utc_offset: float = Field(default=0.0, ge=-12, le=14, description="team's time zone, hours from UTC")
    shift_end: Literal["finish", "handover"] = Field(
        default="finish", description="work in progress at shift end: finish it, or hand it over"
    )

    @property
    def length_h(self) -> float:
        return self.end - self.start if self.end > self.start else self.end + 24 - self.start


class Team(_Model):
    name: Name
    tier: int = Field(ge=1, le=MAX_TIER)
    agents: int = Field(gt=0, le=MAX_AGENTS)
    skills: list[Name] = Field(min_length=1, max_length=MAX_ITEMS)
    cost_per_hour: float = Field(ge=0, le=MAX_MONEY)
    diagnose: Optional[Distribution] = Field(
        default=None, description="minutes to find out the team cannot resolve a ticket"
    )
    shift: Optional[Shift] = Field(default=None, description="working hours; none = always on")

    def can_resolve(self, issue: IssueType) -> bool:
        return self.tier >= issue.tier and issue.skill in self.skills


class Frictions(_Model):
    handoff: Distribution = Field(default=ZERO, description="passing agent's minutes per handoff")
    repeat: Distribution = Field(
        default=ZERO, description="receiving agent's minutes hearing the customer re-explain"
    )
    swarm_overhead: float = Field(default=0.25, ge=0, le=100, description="extra joint effort of a swarm")
    swarm_wait_is_queue: bool = Field(
        default=True,
        description="a customer whose owner waits for a swarm helper is waiting (counts to wait and patience)",
    )
    context_switch: Distribution = Field(
        default=ZERO,
        description="minutes an agent interrupted to help a swarm needs to get back into their own ticket",
    )
    # the contested parts of the swarm model, separately (docs/model.md, "Swarm duration");
    # absent, swarm_overhead o stands for c = 1, k = o (results bit-identical to before)
    swarm_owner_contribution: Optional[float] = Field(
        default=None, ge=0, le=1,
        description="what an owner who cannot resolve the ticket adds to a swarm, as a fraction of "
                    "a qualified agent's rate (0 = shadows only, 1 = full contributor); none = 1",
    )
    swarm_coordination: Optional[float] = Field(
        default=None, ge=0, le=100,
        description="extra effort per helper, as a fraction of the work; none = swarm_overhead",
    )
    swarm_search: Distribution = Field(
        default=ZERO,
        description="owner's minutes to find a helper before asking (owner occupied, customer waiting)",
    )
    swarm_helper_fit: float = Field(
        default=1.0, gt=0, le=1,
        description="chance the helper found can resolve the ticket; otherwise the owner searches again",
    )

    @property
    def swarm_c(self) -> float:
        """Owner contribution c of the swarm duration work * (1 + k*h) / (h + c)."""
        return 1.0 if self.swarm_owner_contribution is None else self.swarm_owner_contribution

    @property
    def swarm_k(self) -> float:
        """Coordination k per helper: ``swarm_coordination``, else the ``swarm_overhead`` shorthand."""
        return self.swarm_overhead if self.swarm_coordination is None else self.swarm_coordination


class Learning(_Model):
    """Agents learning to resolve what they used to pass on (off unless a count is given)."""

    swarms_to_learn: Optional[int] = Field(
        default=None, ge=1, le=MAX_COUNT,
        description="swarms on a skill an owner takes part in before learning it"
    )
    escalations_to_learn: Optional[int] = Field(
        default=None, ge=1, le=MAX_COUNT, description="escalation write-ups on a skill before learning it"
    )
    up_to_tier: int = Field(ge=1, le=MAX_TIER, description="highest issue tier a learned skill lets the agent resolve")


class Scenario(_Model):
    name: Name
    description: Annotated[str, AfterValidator(_check_text)] = Field(default="", max_length=MAX_TEXT)
    seed: int = Field(default=1, ge=0, le=MAX_SEED)
    start: Optional[datetime.datetime] = Field(
        default=None, strict=False,
        description="calendar time of simulated minute 0 (event logs); none = 2026-01-05T00:00 UTC",
    )
    horizon: Horizon
    replications: int = Field(default=10, ge=1, le=MAX_REPLICATIONS)
    arrivals: Arrivals
    segments: list[Segment] = Field(
        default_factory=lambda: [Segment(name="all", share=1.0, priority=0)], min_length=1,
        max_length=MAX_ITEMS,
    )
    issues: list[IssueType] = Field(min_length=1, max_length=MAX_ITEMS)
    teams: list[Team] = Field(min_length=1, max_length=MAX_ITEMS)
    frictions: Frictions = Field(default_factory=Frictions)
    learning: Optional[Learning] = Field(default=None, description="none = agents never learn")
    policies: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="policy name -> parameters; empty = tiered, skill_routing, swarming"
    )
    currency: Optional[str] = Field(
        default=None, min_length=1, max_length=8, pattern=r"^[^\s<>&\"']+$",
        description="label of every amount (cost_per_hour, penalties, costs), e.g. EUR or $; "
                    "no conversion; none = shown as EUR",
    )

    @field_validator("start", mode="before")
    @classmethod
    def _parse_start(cls, value: Any) -> Any:
        """YAML gives dates as ``date`` objects and ``2026-01-05T08:00`` as a string: accept both."""
        if value is None or isinstance(value, datetime.datetime):
            return value
        if isinstance(value, datetime.date):
            return datetime.datetime.combine(value, datetime.time())
        if isinstance(value, str):
            try:
                return datetime.datetime.fromisoformat(value.strip())
            except ValueError:
                pass
        raise ValueError(f"must be an ISO date or date-time such as 2026-01-05 or "
                         f"2026-01-05T08:00 (optionally with +01:00), got {_short(value)}")

    # ---- derived helpers (pure functions of the data) -------------------------------
    @property
    def horizon_min(self) -> float:
        return self.horizon.days * 1440.0

    @property
    def warmup_min(self) -> float:
        return self.horizon.warmup_days * 1440.0

    @property
    def top_tier(self) -> int:
        return max(t.tier for t in self.teams)

    @property
    def clock(self) -> tuple[float, float]:
        """(minute of the week of simulated minute 0, Monday 00:00 = 0; UTC offset in hours).

        The scenario clock is the wall clock of ``start`` (default 2026-01-05 00:00 UTC, a
        Monday): arrival profiles follow it, team shifts convert from it to local time.
        """
        start = self.start or datetime.datetime(2026, 1, 5)
        off = start.utcoffset()
        week_min = start.weekday() * 1440 + start.hour * 60 + start.minute + start.second / 60
        return float(week_min), (off.total_seconds() / 3600 if off is not None else 0.0)

    @property
    def cycle_min(self) -> float | None:
        """Length of the scenario's demand/capacity cycle: a week, a day, or none.

        Backlog checks compare whole cycles, so a weekend or a night shift is not
        mistaken for a trend."""
        weekly = self.arrivals.weekday_profile is not None or any(
            t.shift is not None and len(set(t.shift.days)) < 7 for t in self.teams)
        if weekly:
            return 7 * 1440.0
        if self.arrivals.hourly_profile is not None or any(t.shift is not None for t in self.teams):
            return 1440.0
        return None

    @property
    def operating_features(self) -> bool:
        """Whether any feature beyond the stationary engine is switched on (see docs/model.md)."""
        return (self.arrivals.has_profile or self.learning is not None
                or any(t.shift is not None for t in self.teams)
                or any(i.can_reopen for i in self.issues)
                or any(s.customer_cost_per_hour > 0 for s in self.segments)
                or not self.frictions.context_switch.is_zero)

    def policy_names(self) -> list[str]:
        return list(self.policies) if self.policies else list(DEFAULT_POLICIES)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    def replace(self, **changes: Any) -> "Scenario":
        """A copy with top-level fields replaced, re-validated."""
        data = self.to_dict()
        data.update(changes)
        return scenario_from_dict(data, source=f"<{self.name}>")


class ScenarioError(ValueError):
    """Raised with every problem found; ``problems`` holds one line each."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


# ---------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------


def load_scenario(path: str | Path, policies: "PolicyCatalogue | Mapping[str, Any] | None" = None
                  ) -> Scenario:
    """Read and validate a YAML scenario file; raise :class:`ScenarioError`.

    ``policies``: the policies a scenario may name (see :func:`scenario_from_dict`).
    """
    src = str(path)
    return scenario_from_dict(parse_yaml(read_text(path), src), source=src, policies=policies)


def read_text(path: str | Path, max_bytes: int = MAX_FILE_BYTES) -> str:
    """A user's input file as text, or a one-line :class:`ScenarioError` saying why not."""
    try:
        p = Path(path)
        if p.is_file() and p.stat().st_size > max_bytes:
            raise ScenarioError([f"{path}: file is {p.stat().st_size:,} bytes; a scenario may be at "
                                 f"most {max_bytes:,} bytes"])
        with open(p, encoding="utf-8") as fh:     # a FIFO or device: read no more than allowed
            text = fh.read(max_bytes + 1)
        if len(text) > max_bytes:
            raise ScenarioError([f"{path}: more than {max_bytes:,} characters; a scenario may be at "
                                 f"most {max_bytes:,} bytes"])
        return text
    except FileNotFoundError:
        raise ScenarioError([f"{path}: file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([f"{path}: cannot read file ({exc.__class__.__name__}: {exc})"]) from None


class _DuplicateKey(yaml.YAMLError):
    def __init__(self, key: Any, mark: Any) -> None:
        self.key, self.problem_mark = key, mark


class _TooBig(yaml.YAMLError):
    def __init__(self, message: str, mark: Any) -> None:
        self.message, self.problem_mark = message, mark


class _StrictLoader(yaml.SafeLoader):
    """The safe loader, but a key given twice in one mapping is an error, not "last one wins",
    and nesting is bounded while composing (no RecursionError from 20,000 levels)."""

    _depth = 0

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise _TooBig(f"nested more than {MAX_YAML_DEPTH} levels deep",
                              self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, (str, int, float, bool)) and key in seen:
                raise _DuplicateKey(key, key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _expanded_size(root: yaml.Node) -> int:
    """Values in the document once aliases are expanded, without expanding them (memoised per
    node); a node that contains itself counts as too big."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    active: set[int] = set()
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            active.discard(key)
            children = _children(node)
            sizes[key] = min(1 + sum(sizes[id(c)] for c in children), MAX_YAML_NODES + 1)
            continue
        if key in sizes:
            continue
        if key in active:
            return MAX_YAML_NODES + 1           # recursive alias: infinite when expanded
        active.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in sizes)
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _load_bounded(text: str) -> Any:
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node) > MAX_YAML_NODES:
            raise _TooBig(f"more than {MAX_YAML_NODES:,} values once aliases (*name) are expanded "
                          "(or an alias that contains itself)", node.start_mark)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def parse_yaml(text: str, src: str) -> Any:
    """Safe, bounded YAML loading with errors turned into one-line messages with a line number.

    Bounded: at most :data:`MAX_YAML_DEPTH` levels of nesting and :data:`MAX_YAML_NODES`
    values after expanding aliases, so a 1 KB file of nested aliases is refused at once.
    """
    try:
        return _load_bounded(text)
    except _TooBig as exc:
        line = f":{exc.problem_mark.line + 1}" if exc.problem_mark is not None else ""
        raise ScenarioError([f"{src}{line}: YAML too large or too deep: {exc.message}; scenarios "
                             "are small plain data"]) from None
    except RecursionError:
        raise ScenarioError([f"{src}: YAML nested too deeply (at most {MAX_YAML_DEPTH} levels)"]) from None
    except _DuplicateKey as exc:
        line = f":{exc.problem_mark.line + 1}" if exc.problem_mark is not None else ""
        raise ScenarioError([f"{src}{line}: key {_short(exc.key)} appears twice in the same mapping; "
                             "keep one"]) from None
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ScenarioError(
            [
                f"{src}{line}: YAML tag not allowed ({exc.problem}); scenarios are plain data "
                "(mappings, lists, numbers, strings)"
            ]
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError([f"{src}{where}: YAML syntax error: {problem}"]) from None


def scenario_from_dict(data: Any, source: str = "<scenario>",
                       policies: "PolicyCatalogue | Mapping[str, Any] | None" = None) -> Scenario:
    """Validate plain data (as read from YAML) into a :class:`Scenario`.

    ``policies``: the known policies, passed in (this layer imports no policy
    code): a :class:`PolicyCatalogue` or a mapping ``name -> policy class``;
    ``None`` means the catalogue the policy registry installed
    (:func:`use_policy_catalogue`: every built-in, ``--plugin`` and installed plug-in).
    """
    if not isinstance(data, dict):
        raise ScenarioError([f"{source}: top level must be a mapping of scenario keys, got {_kind(data)}"])
    raw = _check_plain_data(data)
    if raw:
        raise ScenarioError(_capped([f"{source}: {p}" for p in raw], source))
    try:
        scn = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_capped([f"{source}: {line}" for line in _format_pydantic(exc, Scenario)],
                                    source)) from None
    problems = [f"{source}: {p}" for p in check_semantics(scn, policies)]
    if problems:
        raise ScenarioError(_capped(problems, source))
    return scn


def _capped(problems: list[str], source: str) -> list[str]:
    """At most :data:`MAX_PROBLEMS` lines: 100,000 bad issue types must not mean 100,000 lines."""
    if len(problems) <= MAX_PROBLEMS:
        return problems
    return problems[:MAX_PROBLEMS] + [f"{source}: ... and {len(problems) - MAX_PROBLEMS} more "
                                      "problems (fix the above first)"]


def _check_plain_data(data: Any) -> list[str]:
    """Every number finite and within +-MAX_NUMBER, every text bounded, anywhere in the data
    (policy parameters too), before pydantic sees it; ``seed`` has its own bound."""
    problems: list[str] = []
    stack: list[tuple[str, Any]] = [("", data)]
    seen = 0
    while stack and len(problems) <= MAX_PROBLEMS:
        path, value = stack.pop()
        seen += 1
        if seen > MAX_YAML_NODES:
            problems.append(f"{path or '(top level)'}: more than {MAX_YAML_NODES:,} values")
            break
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, (int, float)):
            if path == "seed":
                continue
            if isinstance(value, float) and not math.isfinite(value):
                problems.append(f"{path}: Input should be a finite number (got {value!r})")
            elif abs(value) > MAX_NUMBER:
                problems.append(f"{path}: number too large; numbers must be between "
                                f"-{MAX_NUMBER:g} and {MAX_NUMBER:g} (got {_short(value)})")
        elif isinstance(value, str):
            if len(value) > MAX_TEXT:
                problems.append(f"{path}: text of {len(value):,} characters; at most {MAX_TEXT:,}")
        elif isinstance(value, dict):
            for k, v in value.items():
                k = str(k) if len(str(k)) <= 60 else str(k)[:57] + "..."
                stack.append((f"{path}.{k}" if path else k, v))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", v) for i, v in enumerate(value))
    return sorted(problems)


def check_semantics(scn: Scenario, policies: "PolicyCatalogue | Mapping[str, Any] | None" = None
                    ) -> list[str]:
    """Cross-field rules pydantic cannot express field by field (``policies``: as in
    :func:`scenario_from_dict`)."""
    problems: list[str] = []
    for key, items in (("segments", scn.segments), ("issues", scn.issues)):
        total = sum(i.share for i in items)
        if abs(total - 1.0) > SHARE_TOLERANCE:
            problems.append(f"{key}: shares must sum to 1 (got {total:.6g})")
    named: list[tuple[str, list[str]]] = [("segments", [s.name for s in scn.segments]),
                                          ("issues", [s.name for s in scn.issues]),
                                          ("teams", [s.name for s in scn.teams])]
    for key, names in named:
        seen: dict[str, str] = {}
        for i, name in enumerate(names):
            k = name_key(name)
            if k in seen:
                same = "" if seen[k] == name else f" (same as {seen[k]!r} up to case, spaces or Unicode form)"
                problems.append(f"{key}[{i}].name: duplicate name {name!r}{same}; names must be unique")
            seen.setdefault(k, name)
    spellings: dict[str, str] = {}
    for i, team in enumerate(scn.teams):
        own: set[str] = set()
        for j, skill in enumerate(team.skills):
            if skill in own:
                problems.append(f"teams[{i}].skills[{j}]: skill {skill!r} is listed twice; list it once")
            own.add(skill)
    for where, skill in ([(f"teams[{i}].skills[{j}]", sk) for i, t in enumerate(scn.teams)
                          for j, sk in enumerate(t.skills)]
                         + [(f"issues[{i}].skill", iss.skill) for i, iss in enumerate(scn.issues)]):
        first = spellings.setdefault(name_key(skill), skill)
        if first != skill:
            problems.append(f"{where}: skill {skill!r} differs from {first!r} only in case, spaces or "
                            "Unicode form; spell a skill the same way everywhere")
    if scn.start is not None:
        latest = datetime.datetime(2262, 1, 1) - datetime.timedelta(days=scn.horizon.days)
        if scn.start.year < 1900 or scn.start.replace(tzinfo=None) >= latest:
            problems.append(f"start: must be from 1900 on, and start + horizon.days before 2262 "
                            f"(the calendar event logs can represent), got {scn.start.isoformat()}")
    if scn.horizon.warmup_days >= scn.horizon.days:
        problems.append(
            f"horizon.warmup_days: must be less than horizon.days ({scn.horizon.days:g}), "
            f"got {scn.horizon.warmup_days:g}"
        )
    for i, issue in enumerate(scn.issues):
        if issue.can_reopen and issue.reopen_delay is None:
            problems.append(
                f"issues[{i}].reopen_delay: required because resolutions of '{issue.name}' can fail "
                "(reopen_probability); give a distribution, e.g. {dist: exponential, mean: 1440}"
            )
    for i, team in enumerate(scn.teams):
        if team.shift is not None and team.shift.start == team.shift.end:
            problems.append(
                f"teams[{i}].shift: start and end are both {team.shift.start:g}; use start: 0, end: 24 "
                "for a 24-hour shift"
            )
    if scn.learning is not None:
        if scn.learning.swarms_to_learn is None and scn.learning.escalations_to_learn is None:
            problems.append("learning: give swarms_to_learn and/or escalations_to_learn "
                            "(without either, nobody ever learns; leave the block out instead)")
        if scn.learning.up_to_tier > max(t.tier for t in scn.teams):
            problems.append(f"learning.up_to_tier: must be at most the top team tier "
                            f"({max(t.tier for t in scn.teams)}), got {scn.learning.up_to_tier}")
    for i, issue in enumerate(scn.issues):
        if not any(t.can_resolve(issue) for t in scn.teams):
            problems.append(
                f"issues[{i}]: no team can resolve '{issue.name}' (needs tier >= {issue.tier} "
                f"and skill '{issue.skill}'); add the skill to a team of that tier or higher"
            )
    resolvable = [iss for iss in scn.issues if any(t.can_resolve(iss) for t in scn.teams)]
    for i, team in enumerate(scn.teams):
        cannot = [iss.name for iss in resolvable if not team.can_resolve(iss)]
        if cannot and team.diagnose is None:
            problems.append(
                f"teams[{i}].diagnose: required because team '{team.name}' cannot resolve "
                f"{', '.join(repr(c) for c in cannot)}; give a distribution, e.g. "
                "{dist: exponential, mean: 10}"
            )
    problems.extend(_check_policies(scn, _catalogue(policies)))
    return problems


# ---------------------------------------------------------------------------------
# Known policies: passed in, never imported here (the registry installs the default)
# ---------------------------------------------------------------------------------

#: what a scenario without a ``policies:`` key runs: the three operating models the simulator
#: compares (``sim.policies.registry.DEFAULT_POLICIES`` is this tuple)
DEFAULT_POLICIES = ("tiered", "skill_routing", "swarming")


class PolicyCatalogue(Protocol):
    """What validation needs to know about policies: a class (with ``Params``) per name."""

    def get(self, name: str) -> Any: ...

    def names(self) -> list[str]: ...


class _MappingCatalogue:
    def __init__(self, classes: Mapping[str, Any]) -> None:
        self._classes = dict(classes)

    def get(self, name: str) -> Any:
        return self._classes.get(name)

    def names(self) -> list[str]:
        return list(self._classes)


_installed: Optional[PolicyCatalogue] = None


def use_policy_catalogue(catalogue: Optional[PolicyCatalogue]) -> None:
    """Install the catalogue used when validation is given none (the registry calls this)."""
    global _installed
    _installed = catalogue


def _catalogue(policies: "PolicyCatalogue | Mapping[str, Any] | None") -> Optional[PolicyCatalogue]:
    if policies is None:
        return _installed
    if isinstance(policies, Mapping):
        return _MappingCatalogue(policies)
    return policies


def _check_policies(scn: Scenario, catalogue: Optional[PolicyCatalogue]) -> list[str]:
    problems: list[str] = []
    if catalogue is None:       # nothing installed a catalogue: names cannot be checked here
        return problems
    for name, params in scn.policies.items():
        cls = catalogue.get(name)
        if cls is None:
            problems.append(
                f"policies.{name}: unknown policy; available: {', '.join(catalogue.names())}"
            )
            continue
        if params is None:
            params = {}
        if not isinstance(params, dict):
            problems.append(f"policies.{name}: parameters must be a mapping, got {_kind(params)}")
            continue
        try:
            cls.Params.model_validate(params)
        except ValidationError as exc:
            problems.extend(
                f"policies.{name}.{line}" if not line.startswith(":") else f"policies.{name}{line}"
                for line in _format_pydantic(exc, cls.Params)
            )
    return problems


#: offered load (see :func:`offered_load`) at or above which every policy is overloaded
UNSTABLE_LOAD = 1.0
NEAR_CAPACITY_LOAD = 0.9


def _load_terms(scn: Scenario) -> tuple[float, float, float]:
    """(arrivals per minute, least work per ticket in minutes, agents on duty on average)."""
    lam = scn.arrivals.mean_per_hour / 60.0
    min_work = sum(i.share * i.work.mean for i in scn.issues)
    # with shifts: average agents on duty over a week
    agents = sum(t.agents * (1.0 if t.shift is None else t.shift.length_h * len(t.shift.days) / 168)
                 for t in scn.teams)
    return lam, min_work, agents


def offered_load(scn: Scenario) -> float:
    """The least load any policy puts on the organisation: every ticket's own work at a
    qualified agent over the agents on duty.  At or above :data:`UNSTABLE_LOAD` the scenario
    is unstable under every policy.  A number for code to compare (the sweep's pre-run
    warning), where :func:`scenario_warnings` is the sentence for people."""
    lam, min_work, agents = _load_terms(scn)
    return lam * min_work / agents


def scenario_warnings(scn: Scenario) -> list[str]:
    """Non-fatal observations: mainly offered load against capacity.

    The floor on the work any policy must do is every ticket's own work at a
    qualified agent; if that alone exceeds the total agent count the scenario
    is unstable under every policy (the horizon still bounds the run).
    """
    lam, min_work, agents = _load_terms(scn)
    rho = offered_load(scn)
    out = []
    if rho >= UNSTABLE_LOAD:
        out.append(
            f"unstable: offered work ({lam * min_work:.2f} agent-minutes per minute) exceeds the "
            f"{agents:.4g} agents available (load {rho:.0%}) under every policy; queues will grow "
            "until the horizon ends the run"
        )
    elif rho >= NEAR_CAPACITY_LOAD:
        out.append(f"near capacity: the resolution work alone loads the organisation to {rho:.0%}")
    return out


# ---------------------------------------------------------------------------------
# Error formatting
# ---------------------------------------------------------------------------------

_DIST_TAGS = {"fixed", "exponential", "lognormal", "gamma", "uniform", "triangular", "empirical"}


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", type(None): "nothing"}.get(
        type(value), type(value).__name__
    )


def _format_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    prev_str = False
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
            prev_str = False
            continue
        part = str(part)
        # pydantic inserts the union tag ("lognormal") and wrapper names into the path
        if i > 0 and (part in _DIST_TAGS or part.startswith("function-") or part == "[key]"):
            continue
        out += ("." if out else "") + part
        prev_str = True
    del prev_str
    return out


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> Optional[list[str]]:
    """Walk ``loc`` through nested models to list the keys allowed where an extra key was found."""
    import typing

    from . import distributions as d

    current: Any = model
    tags = {"fixed": d.Fixed, "exponential": d.Exponential, "lognormal": d.LogNormal,
            "gamma": d.Gamma, "uniform": d.Uniform, "triangular": d.Triangular,
            "empirical": d.Empirical}
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if part in tags:
            current = tags[part]
            continue
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = None
            for fname, f in current.model_fields.items():
                if part in (fname, f.alias):
                    field = f
                    break
            if field is None:
                return None
            current = unwrap_annotation(field.annotation)
        else:
            return None
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or n for n, f in current.model_fields.items()]
    if current is typing.Any:
        return None
    return None


def unwrap_annotation(tp: Any) -> Any:
    """Strip Optional/Annotated/list wrappers down to the element type (for walking models)."""
    import types
    import typing

    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (list, typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def _format_pydantic(exc: ValidationError, model: type[BaseModel]) -> list[str]:
    lines = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        path = _format_loc(loc) or "(top level)"
        etype = err["type"]
        if etype == "extra_forbidden":
            allowed = _allowed_keys(model, loc)
            hint = f"; allowed: {', '.join(allowed)}" if allowed else ""
            lines.append(f"{path}: unknown key{hint}")
            continue
        if etype == "missing":
            lines.append(f"{path}: required key is missing")
            continue
        msg = err["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        got = err.get("input")
        if etype.endswith("_type") or etype.startswith(("greater", "less", "too_", "literal")) or etype in (
            "int_from_float", "finite_number",
        ):
            msg = f"{msg} (got {_short(got)})"
        if etype == "union_tag_invalid":
            msg = (
                f"unknown distribution {_short(got.get('dist') if isinstance(got, dict) else got)}; "
                f"allowed: {', '.join(sorted(_DIST_TAGS))}"
            )
        if etype == "union_tag_not_found":
            msg = f"a distribution needs a 'dist' key; allowed: {', '.join(sorted(_DIST_TAGS))}"
        lines.append(f"{path}: {msg}")
    return lines


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother = 3, 50, 50
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 4


def _short(value: Any) -> str:
    """A bounded repr: an error message never expands a huge (aliased) value."""
    text = _REPR.repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
