"""A scenario applied to one simulator: its section built into a fresh backend, its timeline steps checked.

Reading and checking the file is `contracts/scenario.py`'s (pure); this module adds what only the running
simulator can judge — sizes it can generate, actions and operations it has, fault rules it takes — and builds
the backend. Nothing is swapped in until everything checks, so a refused scenario changes nothing.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re
from collections.abc import Mapping
from typing import Any

from contracts.scenario import Scenario, ScenarioError, Step

from .faults import FaultSpecError, parse_rule
from .spec import SimConfig, SimulatorSpec

_RELATIVE_PATH = re.compile(r"^[A-Za-z_]\w*(\[\d+\])*(\.[A-Za-z_]\w*(\[\d+\])*)*: ")


def matches(record: Mapping[str, Any], fields: Mapping[str, Any]) -> bool:
    """A record has these field values: text compared as a glob (`scf-*`), `*` alone meaning any value but
    none; numbers and flags as they are."""
    for name, wanted in fields.items():
        value = record.get(name)
        if isinstance(wanted, str):
            text = "" if value is None else str(value)
            if not (text if wanted == "*" else fnmatch.fnmatchcase(text, wanted)):
                return False
        elif value != wanted:
            return False
    return True


def config_for(spec: SimulatorSpec, config: SimConfig, scenario: Scenario) -> SimConfig:
    """The simulator's configuration with what the scenario's section sets (users, names, time zone) and its
    seed. A value the configuration refuses (an unknown time zone) is a ScenarioError at the section's path."""
    changes: dict[str, Any] = {}
    section = scenario.section(spec.name)
    if section is not None and spec.scenario is not None and spec.scenario.config_from is not None:
        changes.update(spec.scenario.config_from(section))
    if scenario.seed is not None:
        changes["seed"] = scenario.seed
    try:
        return dataclasses.replace(config, **changes) if changes else config
    except ValueError as exc:  # the configuration's own check (__post_init__), the one place a value is judged
        raise ScenarioError([_at(spec.name, str(exc))], scenario.source or scenario.name) from None


def _at(vendor: str, text: str) -> str:
    """A vendor rule's refusal as a problem at the vendor's section; `requests[0].ProblemCode: ...` and
    `timezone: ...` name a path inside it."""
    return f"$.vendors.{vendor}{'.' if _RELATIVE_PATH.match(text) else ': '}{text}"


def check_against(
    spec: SimulatorSpec,
    config: SimConfig,
    operations: Mapping[str, str],
    scenario: Scenario,
    starting: bool = False,
) -> None:
    """What the file cannot say alone, judged for this simulator; a ScenarioError with JSON paths, every problem
    at once. `starting`: the simulator starts with the scenario, so its section's settings are its own (none can
    differ from the running simulator's) and a refused one is named with the rest."""
    problems: list[str] = []
    section = scenario.section(spec.name)
    support = spec.scenario
    probe = spec.new_backend(config)
    if section is not None:
        if support is None:
            problems.append(f"$.vendors.{spec.name}: the {spec.name} simulator reads no scenario section")
        elif support.config_from is not None:
            wanted = support.config_from(section)
            differs = sorted(
                k for k, v in wanted.items() if k not in support.live_settings and getattr(config, k, None) != v
            )
            if differs and not starting:
                problems.append(
                    f"$.vendors.{spec.name}: sets {', '.join(differs)}, which this running simulator was started "
                    f"with otherwise; start it with the scenario (sim {spec.name} --scenario FILE)"
                )
            else:
                try:
                    config_for(spec, config, scenario)
                except ScenarioError as exc:
                    problems += exc.problems
        known = probe.seed_sizes
        for size in section.get("generate") or {}:
            if size not in known:
                problems.append(
                    f"$.vendors.{spec.name}.generate.{size}: not a size the {spec.name} simulator generates "
                    f"(known: {', '.join(sorted(known))})"
                )
    for step in scenario.steps_for(spec.name):
        problems += _step_problems(spec, operations, step, hasattr(probe, "clock"))
    if problems:
        raise ScenarioError(list(dict.fromkeys(problems)), scenario.source or scenario.name)


def _step_problems(spec: SimulatorSpec, operations: Mapping[str, str], step: Step, has_clock: bool) -> list[str]:
    where = f"$.timeline[{step.index}]"
    support = spec.scenario
    problems = []
    if step.action is not None and not any(a.name == step.action for a in spec.actions):
        known = ", ".join(a.name for a in spec.actions) or "none"
        problems.append(f"{where}.action: {spec.name} has no action {step.action!r} (known: {known})")
    if step.fault is not None:
        try:
            rule = parse_rule(step.fault, 0)
        except FaultSpecError as exc:
            problems += [f"{where}.fault: {p}" for p in exc.problems]
        else:
            if rule.operation is not None and rule.operation.lower() not in operations:
                problems.append(f"{where}.fault.operation: {rule.operation!r} is no operationId of {spec.name}")
    if step.created is not None and (support is None or support.find_created is None):
        problems.append(f"{where}.when: the {spec.name} simulator cannot watch for created records")
    if step.listed is not None and (support is None or support.page_read is None):
        problems.append(f"{where}.when.listed: the {spec.name} simulator pages no listing")
    if step.poll is not None and step.poll.lower() not in operations:
        problems.append(f"{where}.after.poll: {step.poll!r} is no operationId of {spec.name}")
    if step.after_polls and step.poll is None and (support is None or not support.polls):
        problems.append(f"{where}.after.polls: {spec.name} has no poll operations; name one with after.poll")
    if step.expire_sessions and (support is None or support.expire_sessions is None):
        problems.append(f"{where}.expire_sessions: the {spec.name} simulator issues no sessions")
    if (step.clock_jump_s is not None or step.clock_set is not None) and not has_clock:
        problems.append(f"{where}.clock: the {spec.name} simulator keeps no clock of its own")
    return problems


def build(spec: SimulatorSpec, config: SimConfig, seed: int, scenario: Scenario) -> Any:
    """A fresh backend holding the scenario's city for this simulator: generated records (`generate`, from
    the seed) and then the listed ones. No section for this simulator: its usual seeded data. The backend is
    made with the section's settings (check_against has refused any but the live ones that differ from the
    running simulator's), so its time zone is the scenario's before a record is written."""
    backend = spec.new_backend(config_for(spec, config, scenario))
    section = scenario.section(spec.name)
    sizes = {**backend.seed_sizes, **config.seed_sizes}
    if section is None:
        spec.seed(backend, seed, sizes)
        return backend
    generate = section.get("generate")
    spec.seed(backend, seed, {**sizes, **generate} if generate is not None else dict.fromkeys(sizes, 0))
    if spec.scenario is not None:
        try:
            spec.scenario.apply(backend, section)
        except ScenarioError:
            raise
        except Exception as exc:  # a vendor rule refusing a listed record (unknown problem code, bad field)
            raise ScenarioError([_at(spec.name, str(exc))], scenario.source or scenario.name) from None
    return backend
