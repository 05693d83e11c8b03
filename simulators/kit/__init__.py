"""What every simulator shares: app factory, `/_sim` control plane, journal, faults, seeding, strict mode."""

from .app import create_app
from .appkeys import BACKEND, CONFIG, FAULTS, JOURNAL, OPERATION, SPEC, VALIDATOR, backend
from .contract import ContractValidator, Operation, Violation
from .seeding import Seeder, canonical_digest, make_rng
from .spec import Action, ActionError, Backend, Dialect, ScenarioSupport, SimConfig, SimulatorSpec

__all__ = [
    "BACKEND",
    "CONFIG",
    "FAULTS",
    "JOURNAL",
    "OPERATION",
    "SPEC",
    "VALIDATOR",
    "Action",
    "ActionError",
    "Backend",
    "ContractValidator",
    "Dialect",
    "Operation",
    "ScenarioSupport",
    "Seeder",
    "SimConfig",
    "SimulatorSpec",
    "Violation",
    "backend",
    "canonical_digest",
    "create_app",
    "make_rng",
]
