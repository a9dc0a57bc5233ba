"""webvi: a WebVI runtime whose block diagrams run as Python, in Pyodide or on CPython."""

__version__ = "0.1.0"
