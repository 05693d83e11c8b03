"""The commands of `civic-harness`, one module each: `NAME`, `HELP`, `add_arguments(parser, argv)` and
`run(args, passthrough, argv) -> exit code`; `PASSTHROUGH = True` where options the command does not know go
on to pytest. The CLI (harness/cli.py) is this registry and nothing else."""

from __future__ import annotations

from types import ModuleType

from . import campaign, capture, certify, conformance, gateway, load, mutate, proxy, sim, up, verify_traffic

COMMANDS: dict[str, ModuleType] = {
    m.NAME: m for m in (sim, up, gateway, conformance, certify, mutate, load, campaign, capture, proxy, verify_traffic)
}
