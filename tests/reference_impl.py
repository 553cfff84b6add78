"""An implementation for the `python:` target test: the reference server, built by a factory."""
from gcu_model.reference.protocol import Server
from gcu_model.spec.loader import load_spec


def make():
    return Server(load_spec())
