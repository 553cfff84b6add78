"""Checks that need the whole spec: filled in below."""


def run_static_checks(spec):
    return None
