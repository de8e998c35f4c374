"""CLINC150 (Larson et al., 2019; CC BY 3.0) from ../shared/datasets/clinc150: real, crowd-written questions."""

from __future__ import annotations

import json
import os
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def clinc_path() -> Path:
    """CLINC150_PATH, else the shared datasets folder beside the repository."""
    path = Path(os.environ.get("CLINC150_PATH", ROOT.parent / "shared" / "datasets" / "clinc150" / "data_full.json"))
    if not path.exists():
        raise FileNotFoundError(f"{path}: CLINC150 not found; set CLINC150_PATH to its data_full.json")
    return path


@lru_cache(maxsize=1)
def load_clinc() -> tuple[dict[str, list[str]], list[str]]:
    """(phrasings by in-scope intent, out-of-scope questions), every split pooled, order kept."""
    data = json.loads(clinc_path().read_text())
    by_intent: dict[str, list[str]] = defaultdict(list)
    out_of_scope: list[str] = []
    for split in ("train", "val", "test", "oos_train", "oos_val", "oos_test"):
        for text, intent in data[split]:
            (out_of_scope if intent == "oos" else by_intent[intent]).append(text)
    return dict(by_intent), out_of_scope
