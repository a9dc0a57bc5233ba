"""The browser side of webvi: the only package that imports `js` or `pyodide`.

Names of variables that hold JavaScript objects start with `js_`, and values are
converted to Python types once, where they cross from JavaScript.
"""
