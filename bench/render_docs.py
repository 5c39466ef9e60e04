"""Write the results tables of README.md and docs/ from the committed benchmark output.

Every table of numbers in the docs that a benchmark produced lives between two markers::

    <!-- begin: NAME (bench/render_docs.py) -->
    ...generated Markdown...
    <!-- end: NAME -->

and is rendered here from the result files — ``bench/results/accuracy.json`` (written by
``python bench/accuracy.py``), ``bench/results/robustness.json`` (written by
``python bench/robustness.py``), ``bench/results/checking.json`` (written by
``python bench/checking.py``) and the bundled model's
``card.json`` (written by ``veracity train``) — never typed by hand.
``tests/test_docs.py`` renders the blocks again and fails when a file's block differs, so a
hand edit or a table left behind after a new benchmark run does not pass.

Usage::

    python bench/render_docs.py            # rewrite the blocks in README.md and docs/*.md
    python bench/render_docs.py --check    # exit 1 and name the stale blocks, write nothing
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ACCURACY = Path("bench/results/accuracy.json")
CARD = Path("src/veracity/resources/default_model/card.json")
ROBUSTNESS = Path("bench/results/robustness.json")
CHECKING = Path("bench/results/checking.json")
BLOCK = re.compile(
    r"(?P<begin><!-- begin: (?P<name>[a-z0-9-]+) \(bench/render_docs\.py\) -->\n)"
    r"(?P<body>.*?)"
    r"(?P<end><!-- end: (?P=name) -->)",
    re.S,
)
MINUS = "\u2212"


def doc_files(root: Path = ROOT) -> list[Path]:
    """README.md and every Markdown file under docs/, the files that may hold blocks."""
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


# -- formatting -----------------------------------------------------------------------------


def _num(value: float | None, signed: bool = False) -> str:
    """Three decimals, a real minus sign; ``n/a`` for a missing value."""
    if value is None:
        return "n/a"
    text = f"{value:+.3f}" if signed else f"{value:.3f}"
    return text.replace("-", MINUS)


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _train_on(train_on: str | Sequence[str], datasets: Sequence[str]) -> str:
    if train_on == "all" or list(train_on) == list(datasets):
        return f"all {len(datasets)} sets"
    return ", ".join(train_on)


def _candidate(row: dict[str, Any], result: dict[str, Any]) -> str:
    """How a person reads a candidate: its preset, parameters and training sets."""
    rule = result["rule"]
    if row["preset"] == "reference":
        what = "reference: plain `TfidfVectorizer` + `LogisticRegression` on raw text"
    else:
        params = ", ".join(f"{k}={v}" for k, v in sorted(row["params"].items()))
        what = f"`{row['preset']}`" + (f" {params}" if params else "")
    label = f"{what} ({_train_on(row['train_on'], rule['datasets'])})"
    if row["name"] == result["selection"]["name"]:
        label += " (**bundled**)"
    return label


def _source(result: dict[str, Any]) -> str:
    return (
        f"_From `{ACCURACY.as_posix()}`: commit `{result['commit'][:10]}`, rule sha256 "
        f"`{result['rule_sha256'][:12]}`, finished {result['finished'][:10]}._"
    )


# -- the blocks -----------------------------------------------------------------------------


def lodo_candidates(result: dict[str, Any], card: dict[str, Any]) -> str:
    """Every candidate's leave-one-dataset-out summary, the bundled one first."""
    chosen = result["selection"]["name"]
    rows = sorted(
        result["results"],
        key=lambda r: (r["name"] != chosen, r["preset"] == "reference", -r["mean_auc"]),
    )
    body = []
    for r in rows:
        d = r.get("auc_difference")
        delta = ""
        if d is not None:
            delta = (
                f"{_num(d['difference'], True)} [{_num(d['low'], True)}, "
                f"{_num(d['high'], True)}] to `{r['difference_to']}`"
            )
        body.append(
            [
                _candidate(r, result),
                f"{_num(r['mean_auc'])} ({_num(r['min_auc'])})",
                _num(r["mean_ece"]),
                f"{_num(r['mean_accuracy_answered'])} / {_num(r['mean_coverage'])}",
                f"{_num(r['in_domain']['roc_auc'])} / {_num(r['in_domain']['ece'])}",
                delta,
            ]
        )
    header = [
        "candidate (trained on)",
        "LODO ROC-AUC mean (min)",
        "off-domain ECE",
        "accuracy when answering / coverage",
        "in-domain ROC-AUC / ECE",
        "ΔAUC [95% CI]",
    ]
    return _table(header, body) + "\n\n" + _source(result)


def lodo_per_dataset(result: dict[str, Any], card: dict[str, Any]) -> str:
    """ROC-AUC of every candidate on every held-out dataset, and the nested choice."""
    names = result["rule"]["datasets"]
    rows = list(result["results"])
    nested = result["nested"]["folds"]
    header = ["held-out set", "rows", *(f"`{r['name']}`" for r in rows), "nested choice"]
    body = [
        [
            f"`{k}`",
            f"{nested[k]['n']:,}",
            *(_num(r["folds"][k]["roc_auc"]) for r in rows),
            f"`{nested[k]['chosen']}`",
        ]
        for k in names
    ]
    return _table(header, body) + "\n\n" + _source(result)


def nested_table(result: dict[str, Any], card: dict[str, Any]) -> str:
    """Per held-out dataset: the nested choice's ROC-AUC, ECE, accuracy and coverage."""
    n = result["nested"]
    header = ["held-out set", "ROC-AUC", "ECE", "accuracy when answering", "answered"]
    body = [
        [
            f"`{k}`",
            _num(f["roc_auc"]),
            _num(f["ece"]),
            _num(f["accuracy_answered"]),
            f"{f['coverage']:.0%}",
        ]
        for k, f in n["folds"].items()
    ]
    body.append(
        [
            "**mean**",
            f"**{_num(n['mean_auc'])}**",
            f"**{_num(n['mean_ece'])}**",
            f"**{_num(n['mean_accuracy_answered'])}**",
            f"**{n['mean_coverage']:.0%}**",
        ]
    )
    return _table(header, body) + "\n\n" + _source(result)


def bundled_model(result: dict[str, Any], card: dict[str, Any]) -> str:
    """The bundled model's card: what it is, what it was trained on, its held-out numbers."""
    held = card["metrics"]["held-out"]

    def ci(key: str) -> str:
        m = held[key]
        return f"{_num(m['value'])} [{_num(m['low'])}, {_num(m['high'])}]"

    params = ", ".join(f"{k}={v}" for k, v in sorted(card["params"].items()))
    sets = ", ".join(f"`{d['name']}` ({d['rows']:,})" for d in card["training_data"])
    rows = card["rows"]
    body = [
        ["model id", f"`{card['model_id']}`"],
        ["preset", f"`{card['preset']}` ({params})"],
        ["chosen as", f"`{card['extra']['selection']['name']}` by `bench/accuracy.py`"],
        ["trained on (rows loaded)", sets],
        [
            "rows",
            f"{rows['loaded']:,} loaded, {card['extra']['duplicates_dropped']:,} "
            f"duplicates dropped, {rows['train']:,} trained on, {rows['held-out']:,} held out",
        ],
        ["held-out accuracy [95% CI]", ci("accuracy")],
        ["held-out macro-F1 [95% CI]", ci("macro_f1")],
        ["held-out ROC-AUC [95% CI]", ci("roc_auc")],
        ["held-out ECE / Brier", f"{_num(held['ece'])} / {_num(held['brier'])}"],
        ["seed, created", f"{card['seed']}, {card['created'][:10]}"],
    ]
    source = (
        f"_From `{CARD.as_posix()}`; the held-out 20% is drawn from the nine sets pooled, "
        "so these are in-domain numbers._"
    )
    return _table(["", ""], body) + "\n\n" + source


def robustness_table(robustness: dict[str, Any]) -> str:
    """Flip rate of every edit on every attacked dataset, with the target where there is one."""
    results = robustness["results"]
    attacks = results[0]["attacks"]
    header = [
        "edit",
        "applies to",
        *(f"`{r['name']}` ({r['rows']:,} rows)" for r in results),
        "target",
    ]
    body = []
    for i, attack in enumerate(attacks):
        rates = []
        for r in results:
            a = r["attacks"][i]
            if a["name"] != attack["name"]:
                raise ValueError(f"{ROBUSTNESS}: the attacks of {r['name']} are in another order")
            rates.append(f"{a['flip_rate']:.1%}")
        target = attack["target"]
        body.append(
            [
                attack["description"].replace("'", "`"),
                attack["applies_to"] or "all",
                *rates,
                "—" if target is None else f"< {target:.0%}",
            ]
        )
    body.append(["accuracy before the edits", "", *(f"{r['accuracy']:.3f}" for r in results), ""])
    source = (
        f"_From `{ROBUSTNESS.as_posix()}` (model `{robustness['model']}`), written by "
        f"`python bench/robustness.py` (`{robustness['command']}`) at commit "
        f"`{robustness['commit'][:10]}`, finished {robustness['finished'][:10]}._"
    )
    return _table(header, body) + "\n\n" + source


def checking_table(checking: dict[str, Any]) -> str:
    """Each checking target of issue #15, what was measured, and whether it is met."""
    n = checking["numbers"]
    body = [
        [row["target"].replace("`", ""), f"{row['value']:,.3f}", f"{row['goal']:g}",
         "yes" if row["met"] else "**no**"]
        for row in checking["targets"]
    ]  # fmt: skip
    source = (
        f"_From `{CHECKING.as_posix()}`, written by `python bench/checking.py` at commit "
        f"`{checking['commit'][:10]}`, finished {checking['finished'][:10]}, on "
        f"{checking['machine']['cpus']} CPUs: {n['articles']:,} held-out `isot_sample` articles; "
        f"the reference TF-IDF + LR scored {n['reference_articles_per_s']:,.0f} articles/s and "
        f"one article in {n['reference_single_ms']:.1f} ms; veracity "
        f"{n['probability_only_articles_per_s']:,.0f} articles/s without evidence, "
        f"{n['with_evidence_articles_per_s']:,.0f} with it, and one check in "
        f"{n['check_single_ms']:.1f} ms._"
    )
    return _table(["target", "measured", "goal", "met"], body) + "\n\n" + source


RENDERERS: dict[str, Callable[[dict[str, Any], dict[str, Any]], str]] = {
    "lodo-candidates": lodo_candidates,
    "lodo-per-dataset": lodo_per_dataset,
    "nested-table": nested_table,
    "bundled-model": bundled_model,
}


def render(root: Path = ROOT) -> dict[str, str]:
    """Every block's Markdown, rendered from the committed result files under ``root``."""
    result = json.loads((root / ACCURACY).read_text(encoding="utf-8"))
    card = json.loads((root / CARD).read_text(encoding="utf-8"))
    robustness = json.loads((root / ROBUSTNESS).read_text(encoding="utf-8"))
    blocks = {name: make(result, card) for name, make in RENDERERS.items()}
    blocks["robustness-table"] = robustness_table(robustness)
    blocks["checking-table"] = checking_table(
        json.loads((root / CHECKING).read_text(encoding="utf-8"))
    )
    return {name: text.rstrip("\n") + "\n" for name, text in blocks.items()}


def apply(text: str, blocks: dict[str, str]) -> str:
    """``text`` with the body of every block replaced by its rendering.

    Raises
    ------
    KeyError
        A block names a table this script does not render.
    """

    def replace(match: re.Match[str]) -> str:
        name = match["name"]
        if name not in blocks:
            raise KeyError(f"no renderer for the block {name!r}; known: {sorted(blocks)}")
        return match["begin"] + blocks[name] + match["end"]

    return BLOCK.sub(replace, text)


def block_names(text: str) -> list[str]:
    """The names of the generated blocks in ``text``, in order."""
    return [m["name"] for m in BLOCK.finditer(text)]


def main(argv: Sequence[str] | None = None) -> int:
    """Rewrite (or, with ``--check``, verify) the generated blocks; the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale blocks")
    args = parser.parse_args(argv)
    blocks = render()
    stale = []
    for path in doc_files():
        text = path.read_text(encoding="utf-8")
        new = apply(text, blocks)
        if new != text:
            stale.append(path.relative_to(ROOT).as_posix())
            if not args.check:
                path.write_text(new, encoding="utf-8")
    verb = "stale" if args.check else "rewrote"
    print(f"{verb}: {', '.join(stale)}" if stale else "every generated block is up to date")
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
