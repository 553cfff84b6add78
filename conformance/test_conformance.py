"""Every case of the conformance suites, one test each, against the target given with
--gcu-target (the gcu-model pytest plugin; see docs/conformance.md):

    pytest conformance --gcu-target=exec:'./my-driver-adapter'
"""
import pytest


def test_case(gcu_case, gcu_runner):
    from gcu_model.conform.runner import describe_failure
    result = gcu_runner.run_case(gcu_case)
    if not result.passed:
        pytest.fail(describe_failure(result), pytrace=False)


def test_lockstep(gcu_shard, gcu_runner):
    """One shard of a lockstep campaign (--gcu-lockstep N): random runs from the shard's
    seed, the target and the reference step by step; a disagreement is shrunk."""
    from gcu_model.conform.lockstep import run_lockstep
    from gcu_model.conform.runner import describe_failure
    from gcu_model.spec.loader import load_spec
    result = run_lockstep(load_spec(), gcu_shard.config, gcu_runner.target, examples=gcu_shard.examples,
                          seed=gcu_shard.seed)
    if not result.passed:
        pytest.fail(f"seed {gcu_shard.seed}: " + describe_failure(result.failure), pytrace=False)
