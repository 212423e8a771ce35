"""sheetnet: deep learning's core math, cell by cell, as live spreadsheets."""

__version__ = "0.1.0"
