"""Published fake-news detection results, shown beside ours in the evaluation report.

Each :class:`PublishedResult` says what was measured, on whose data and split, and where
our comparable number lives (a cell of the cross-dataset matrix), so the report can put
them side by side without pretending they are comparable when they are not.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PUBLISHED", "PublishedResult"]


@dataclass(frozen=True)
class PublishedResult:
    """One number from the literature, with what it was measured on and how.

    Attributes
    ----------
    study : str
        Short name, e.g. ``"Pérez-Rosas et al. 2018"``.
    dataset : str
        The data as the authors used it.
    task : str
        What was predicted (``"binary"``, ``"six-way"``, ``"cross-domain"``…).
    method : str
        The model and features.
    metric : str
        Which metric ``value`` is.
    value : str
        The published number, as published (``"≈"`` marks a value quoted approximately).
    protocol : str
        Whose split / which evaluation protocol produced it.
    citation : str
        Full reference.
    ours : tuple of (str, str) or None
        Where our comparable number lives: ``(train, test)`` datasets of a cross-matrix cell
        (the same name twice for in-domain), or None when we have no comparable number.
    comparability : str
        Why our number is or is not comparable.
    """

    study: str
    dataset: str
    task: str
    method: str
    metric: str
    value: str
    protocol: str
    citation: str
    ours: tuple[str, str] | None
    comparability: str


_PEREZ_ROSAS = (
    "V. Pérez-Rosas, B. Kleinberg, A. Lefevre, R. Mihalcea. Automatic Detection of Fake "
    "News. Proceedings of COLING 2018."
)

#: Published results shown beside ours. Only numbers we are sure of are given exactly;
#: a value with "≈" is quoted approximately and should be checked in the paper before reuse.
PUBLISHED: tuple[PublishedResult, ...] = (
    PublishedResult(
        study="Ahmed, Traore & Saad 2017",
        dataset="ISOT fake news data (full set as collected by the authors)",
        task="binary",
        method="linear SVM, unigram TF-IDF",
        metric="accuracy",
        value="0.92",
        protocol="authors' own train/test split of the full data",
        citation=(
            "H. Ahmed, I. Traore, S. Saad. Detection of Online Fake News Using N-Gram Analysis "
            "and Machine Learning Techniques. ISDDC 2017, LNCS 10618, Springer."
        ),
        ours=("isot_sample", "isot_sample"),
        comparability=(
            "ours: deduplicated 80/20 split of isot_sample, a 6,176-row sample of ISOT "
            "with shortcut artefacts (Reuters datelines, photo credits) scrubbed"
        ),
    ),
    PublishedResult(
        study="Wang 2017",
        dataset="LIAR (PolitiFact statements)",
        task="six-way rating",
        method="hybrid CNN, text + all metadata (text-only CNN: 0.270)",
        metric="test accuracy",
        value="0.274",
        protocol="official LIAR train/valid/test split",
        citation=(
            'W. Y. Wang. "Liar, Liar Pants on Fire": A New Benchmark Dataset for Fake News '
            "Detection. Proceedings of ACL 2017 (short papers)."
        ),
        ours=("liar", "liar"),
        comparability=(
            "not comparable: ours is the binary mapping (pants-fire, false, barely-true → "
            "fake), text only, on a deduplicated 80/20 split"
        ),
    ),
    PublishedResult(
        study="Verma et al. 2021",
        dataset="WELFake (72,134 articles merged from four datasets)",
        task="binary",
        method="WELFake: word embeddings over linguistic features, ensemble",
        metric="accuracy",
        value="0.9673",
        protocol="authors' own split",
        citation=(
            "P. K. Verma, P. Agrawal, I. Amorim, R. Prodan. WELFake: Word Embedding Over "
            "Linguistic Features for Fake News Detection. IEEE Transactions on Computational "
            "Social Systems 8(4), 2021."
        ),
        ours=None,
        comparability="WELFake is not in the shared data: no number of ours",
    ),
    PublishedResult(
        study="Pérez-Rosas et al. 2018",
        dataset="FakeNewsAMT (240 legit + 240 crowd-written fake)",
        task="binary",
        method="linear SVM; n-grams, punctuation, LIWC, readability, syntax",
        metric="accuracy",
        value="0.74",
        protocol="five-fold cross-validation, authors' folds",
        citation=_PEREZ_ROSAS,
        ours=("fakenewsamt", "fakenewsamt"),
        comparability="ours: one deduplicated 80/20 split, word + char TF-IDF",
    ),
    PublishedResult(
        study="Pérez-Rosas et al. 2018",
        dataset="Celebrity (250 legit + 250 fake)",
        task="binary",
        method="linear SVM; n-grams, punctuation, LIWC, readability, syntax",
        metric="accuracy",
        value="0.76",
        protocol="five-fold cross-validation, authors' folds",
        citation=_PEREZ_ROSAS,
        ours=("celebrity", "celebrity"),
        comparability="ours: one deduplicated 80/20 split, word + char TF-IDF",
    ),
    PublishedResult(
        study="Pérez-Rosas et al. 2018",
        dataset="train FakeNewsAMT → test Celebrity",
        task="cross-domain",
        method="linear SVM; their feature sets",
        metric="accuracy",
        value="≈0.5 (near chance)",
        protocol="trained on all of FakeNewsAMT, tested on all of Celebrity",
        citation=_PEREZ_ROSAS,
        ours=("fakenewsamt", "celebrity"),
        comparability="ours: trained on 80% of FakeNewsAMT, tested on all of Celebrity",
    ),
    PublishedResult(
        study="Horne & Adali 2017",
        dataset="Random Political News (75 real, 75 fake; satire left out here)",
        task="binary (real vs fake)",
        method="linear SVM on body-text stylistic features",
        metric="accuracy",
        value="≈0.71 to 0.78",
        protocol="authors' cross-validation; range over their feature sets",
        citation=(
            "B. D. Horne, S. Adali. This Just In: Fake News Packs a Lot in Title, Uses Simpler, "
            "Repetitive Content in Text Body, More Similar to Satire than Real News. "
            "Proceedings of ICWSM 11(1), 2017, pp. 759-766 (NECO workshop)."
        ),
        ours=("random_political", "random_political"),
        comparability="ours: one deduplicated 80/20 split (30 test articles: wide CI)",
    ),
)
