"""Implementations under test, attached through one interface (issue 5): see targets.py."""
