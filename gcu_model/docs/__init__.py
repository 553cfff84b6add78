"""Generated documentation: pages derived from the loaded spec (design.md "One source of
truth"; the docs stage of "Layout")."""
from .generate import MARK, PAGES, compare, generate, write

__all__ = ["MARK", "PAGES", "compare", "generate", "write"]
