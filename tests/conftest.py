import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The tests import build.py and the helpers in tests/support as modules.
for path in (ROOT, ROOT / "tests"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
