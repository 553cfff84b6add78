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
