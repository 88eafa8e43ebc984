"""What a fixture training resolved, written where $RECORD says: each value's type and repr, so an int 20 and a
float 20.0, a Path and a str, a tuple and a list are told apart."""
import json
import os
from typing import Any, Dict


def record(resolved: Dict[str, Any]) -> None:
    path = os.environ.get("RECORD")
    if path:
        with open(path, "w", encoding="utf-8") as file:
            json.dump({key: [type(value).__name__, repr(value)] for key, value in resolved.items()}, file, indent=1)
