"""gcu-model: a formal, executable model of the Enflame GCU kernel driver (KMD).

The small public API:

    spec = load_spec()                      # the embedded specs/ (or load_spec(DIR))
    system = System(spec, "s60-sriov")      # one configuration, ground and ready
    state = system.initial[0]               # a State: an immutable, hashable tuple
    outcome = system.step(state, "install_base(opt_mode=virt_host, opt_vf_num=4, opt_auto_load=true)")
    outcome.accepted, outcome.state, outcome.observations    # or .errno, .message when refused
    result = explore(system)                # reachability graph (networkx), invariants, goals
    runtime = Runtime(system)               # the same machines built with `transitions`
"""
from .core.outcome import Accepted, Action, OutOfBounds, Refused
from .core.system import System, UnknownAction
from .explore.explorer import Exploration, count_states, explore, replay
from .runtime.machines import Runtime
from .spec.errors import InvalidSpec
from .spec.loader import load_spec

State = tuple
"""A state is a plain tuple of slot values (see System.describe for names)."""

__all__ = ["Accepted", "Action", "Exploration", "InvalidSpec", "OutOfBounds", "Refused", "Runtime", "State",
           "System", "UnknownAction", "count_states", "explore", "load_spec", "replay"]
