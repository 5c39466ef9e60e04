"""The bundled model's verdicts and evidence on real rows, pinned.

Speed work on the checking core must not change what users get. ``golden/bundled_checks.json``
holds, for a few rows of every development dataset (referenced by name and row, never
copied) and the seed article: the probability, the "not sure" half-width, the verdict and
every evidence item. A change that moves a probability by more than 1e-9 or any evidence
item fails here.

When the bundled model is retrained its id changes and this test says so: regenerate with
``python tests/test_bundled_golden.py --write`` and review the difference.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
GOLDEN = Path(__file__).with_name("golden") / "bundled_checks.json"
#: Rows of each dataset (after loading) whose checks are pinned.
ROWS = (0, 7, 123, 401)
DATASETS = (
    "isot_sample",
    "fakenewsamt",
    "celebrity",
    "random_political",
    "liar",
    "covid_constraint",
    "fakehealth_healthstory",
    "fakespeak_eng",
    "coaid_news",
)


def _cases() -> list[tuple[str, str]]:
    """``(where, text)``: the pinned rows, the seed article and its normalized copy."""
    from veracity.data import load_dataset
    from veracity.settings import Settings

    settings = Settings(datasets_dir=str(SHARED / "datasets"))
    cases = []
    for name in DATASETS:
        texts = load_dataset(name, settings=settings).texts()
        cases += [(f"{name}#{i}", texts[i]) for i in ROWS if i < len(texts)]
    seed = (SHARED / "seed" / "seed_article.txt").read_text(encoding="utf-8")
    cases += [("seed", seed), ("seed without reuters", seed.replace("reuters", " "))]
    return cases


def _checks(cases: list[tuple[str, str]]) -> dict[str, Any]:
    from veracity.detector import load_model

    detector = load_model()
    verdicts = detector.check_many([text for _, text in cases])
    return {
        "model_id": detector.model_id,
        "checks": [
            {
                "case": where,
                "probability": v.probability,
                "band_halfwidth": v.band_halfwidth,
                "verdict": v.verdict,
                "reason": v.reason,
                "evidence": [
                    [e.term, e.weight, e.toward, e.kind, e.start, e.end, e.count]
                    for e in v.evidence
                ],
            }
            for (where, _), v in zip(cases, verdicts, strict=True)
        ],
    }


def test_the_bundled_model_gives_the_pinned_checks() -> None:
    if not (SHARED / "datasets").is_dir() or not (SHARED / "seed").is_dir():
        pytest.skip(f"real datasets not found at {SHARED}")
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    got = _checks(_cases())
    assert got["model_id"] == golden["model_id"], (
        "the bundled model changed: regenerate with `python tests/test_bundled_golden.py "
        "--write` and review the difference"
    )
    assert [c["case"] for c in got["checks"]] == [c["case"] for c in golden["checks"]]
    for new, old in zip(got["checks"], golden["checks"], strict=True):
        where = new["case"]
        assert new["probability"] == pytest.approx(old["probability"], abs=1e-9), where
        assert new["band_halfwidth"] == pytest.approx(old["band_halfwidth"], abs=1e-9), where
        assert (new["verdict"], new["reason"]) == (old["verdict"], old["reason"]), where
        assert len(new["evidence"]) == len(old["evidence"]), where
        for e_new, e_old in zip(new["evidence"], old["evidence"], strict=True):
            assert e_new[0] == e_old[0] and e_new[2:] == e_old[2:], where
            assert e_new[1] == pytest.approx(e_old[1], abs=1e-9), (where, e_new[0])
    assert any(c["evidence"] for c in got["checks"])  # the pins hold evidence at all


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        raise SystemExit("usage: python tests/test_bundled_golden.py --write")
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps(_checks(_cases()), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {GOLDEN}")
