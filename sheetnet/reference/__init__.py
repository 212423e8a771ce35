"""Independent numpy implementations of each lesson, keyed by lesson name.

Each `expected_cells(params)` returns {(sheet, 'A1'): value} for every formula
cell of the lesson, computed without the engine.
"""

from . import entropy, graddesc

EXPECTED = {"entropy": entropy.expected_cells, "graddesc": graddesc.expected_cells}
