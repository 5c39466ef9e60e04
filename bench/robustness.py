"""Shortcut robustness of the bundled model, written to ``bench/results/robustness.json``.

Runs ``veracity robustness`` on the four article sets (a seeded sample of 1,000 rows each,
the settings' seed) with the bundled model and records its JSON together with the commit,
whether the tree was clean, the command and the rule it is judged by: every edit with a
``target`` (dateline, credit line, upper case, lower case, punctuation) must flip fewer than
2% of verdicts; synonyms and truncation are reported without a target. The file is committed exactly
as this script wrote it; ``bench/render_docs.py`` renders the docs' table from it.

    python bench/robustness.py            # ~2 min on 2 cores
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from _provenance import commit

DATASETS = ("isot_sample", "fakenewsamt", "celebrity", "random_political")
LIMIT = 1000
OUT = Path(__file__).resolve().parent / "results" / "robustness.json"


def command() -> list[str]:
    """The ``veracity robustness`` command this benchmark runs."""
    data = [arg for name in DATASETS for arg in ("--data", name)]
    return ["veracity", "robustness", *data, "--limit", str(LIMIT), "--json"]


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command, add provenance, write the result file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="result file to write")
    args = parser.parse_args(argv)
    cmd = command()
    exe = shutil.which(cmd[0])
    if exe is None:
        sys.exit("veracity is not on PATH: pip install -e . first")
    ran = subprocess.run([exe, *cmd[1:]], capture_output=True, text=True)
    if ran.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({ran.returncode}): {ran.stderr.strip()}")
    report = json.loads(ran.stdout)
    result = {
        **commit(),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(cmd),
        "rule": "every edit with a target flips fewer than 2% of verdicts "
        "(synonyms and truncation have none)",
        **report,
    }
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    failed = [
        f"{r['name']}:{a['name']}"
        for r in report["results"]
        for a in r["attacks"]
        if a["passed"] is False  # None: an edit without a target
    ]
    verdict = "targets missed: " + ", ".join(failed) if failed else "all targets met"
    print(f"wrote {args.out}; {verdict}")


if __name__ == "__main__":
    main()
