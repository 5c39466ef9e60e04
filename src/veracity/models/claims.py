"""Short claims (LIAR-style): TF-IDF of the statement plus who said it, where and on what.

:class:`ClaimsClassifier` is one calibrated logistic regression over four blocks of
features, stacked in this order:

1. word n-gram TF-IDF of the statement (after :func:`veracity.text.prepare`);
2. ``char_wb`` n-gram TF-IDF of the statement;
3. one-hot metadata tokens, kept when seen in at least ``meta_min_count`` training
   rows: ``speaker=…``, ``party=…``, ``state=…``, ``job=…``, one ``subject=…`` per
   comma-separated subject, one ``context=…`` per word of the venue
   ("a TV interview" → ``context=tv``, ``context=interview``);
4. the **speaker prior**: per class, the log-ratio of the speaker's smoothed share
   of that label in the training labels to its overall share, plus ``log(1 + n)``
   of their training statements. Inside ``fit`` it is
   computed out-of-fold (``prior_folds`` folds), so no training row ever sees its
   own label; at prediction time it uses all training rows.

The speaker prior is *not* LIAR's ``credit_*`` columns: those counts are per row and
include the rating of the statement being judged (a label leak), so metadata names
starting with ``credit_`` are refused and such columns in ``X`` are ignored.

With ``metadata=()`` the model reads the statement only (preset ``claims-lr.v1``);
with the default metadata it is ``claims-meta.v1``. :meth:`ClaimsClassifier.model_input`
builds its ``X`` from a dataset (training and evaluation call it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from veracity.errors import InputError
from veracity.explain import (
    Attribution,
    calibrator_log_odds,
    linear_attribution,
    rank_evidence,
)
from veracity.models._text_input import (
    check_ngram_range,
    check_texts,
    compact_vocabularies,
    fit_word_char_tfidf,
    pop_vocabularies,
    set_vocabularies,
)
from veracity.models.calibrators import fit_calibrated, temperature_proba
from veracity.models.claims_metadata import (
    count_table,
    metadata_documents,
    metadata_frame,
    metadata_token,
    out_of_fold_prior,
    prior_rows,
)
from veracity.models.protocol import TextInput, model_frame, model_texts
from veracity.text import prepare
from veracity.types import FAKE, Evidence

__all__ = ["METADATA", "ClaimsClassifier", "out_of_fold_prior"]

#: Metadata columns :class:`ClaimsClassifier` can read, as named in veracity's LIAR frame.
METADATA: tuple[str, ...] = ("speaker", "party", "state", "job", "subject", "context")
#: Prefix of LIAR's credit-history counts, which include the judged statement's label.
_LEAKY_PREFIX = "credit_"
_CALIBRATIONS = ("sigmoid", "isotonic", "temperature")
_EPS = 1e-12


def _check_int(name: str, value: Any, low: int, *, none_ok: bool = False) -> None:
    if none_ok and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
        raise InputError(f"{name} must be an int >= {low}, got {value!r}")


def _check_positive(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, Real) or not float(value) > 0:
        raise InputError(f"{name} must be a positive number, got {value!r}")


class ClaimsClassifier(TextInput, ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Calibrated logistic regression on a claim's text and, optionally, its metadata.

    Parameters
    ----------
    metadata : tuple of str, default=("speaker", "party", "state", "job", "subject", "context")
        Metadata columns to read from ``X`` (any of :data:`METADATA`); ``()`` reads the
        text only. Names starting with ``credit_`` are refused: LIAR's credit-history
        counts include the label of the statement being judged.
    word_ngram_range : tuple of (int, int), default=(1, 2)
        Lengths of the word n-grams.
    char_ngram_range : tuple of (int, int), default=(2, 5)
        Lengths of the ``char_wb`` n-grams.
    max_word_features, max_char_features : int or None, default=100_000
        Keep only this many most frequent n-grams (None: all).
    min_df : int, default=2
        Ignore n-grams found in fewer statements than this.
    meta_min_count : int, default=2
        Ignore metadata tokens found in fewer training rows than this.
    speaker_prior : bool, default=True
        Add the out-of-fold speaker prior (needs ``"speaker"`` in ``metadata``).
    prior_smoothing : float, default=10.0
        Pseudo-count of the overall label distribution in the speaker prior.
    prior_folds : int, default=5
        Folds of the out-of-fold speaker prior.
    C : float, default=1.0
        Inverse L2 regularization strength of the logistic regression.
    calibration : {"sigmoid", "isotonic", "temperature"}, default="sigmoid"
        How out-of-fold scores become probabilities (``"temperature"``: two classes only).
    cv : int, default=5
        Stratified folds for calibration; every class needs at least ``cv`` rows.
    preprocess : bool, default=True
        Pass every statement through :func:`veracity.text.prepare` first.
    random_state : int, RandomState instance or None, default=None
        Seeds the calibration folds and the speaker-prior folds.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels, sorted; ``predict_proba`` columns follow this order.
    word_vectorizer_, char_vectorizer_ : sklearn.feature_extraction.text.TfidfVectorizer
        The text feature blocks, in this order.
    meta_vectorizer_ : sklearn.feature_extraction.text.CountVectorizer or None
        Binary metadata tokens (None when no token was frequent enough).
    prior_speakers_ : list of str or None
        Speakers of the training rows (None without the speaker prior).
    prior_counts_ : ndarray of shape (n_speakers, n_classes) or None
        Their training label counts, in the order of ``prior_speakers_``.
    class_prior_ : ndarray of shape (n_classes,)
        Share of each class in the training labels.
    calibrated_ : sklearn.calibration.CalibratedClassifierCV or None
        One logistic regression and its calibrator (None with ``"temperature"``).
    linear_ : sklearn.linear_model.LogisticRegression or None
        With ``"temperature"``: the regression fitted on all rows; else None.
    temperature_ : float or None
        With ``"temperature"``: the fitted temperature; else None.

    Notes
    -----
    ``X`` is a :class:`pandas.DataFrame` with a ``text`` column (str) plus any of the
    ``metadata`` columns (cells are turned into str; missing columns count as empty),
    or a plain sequence of str (no metadata at all, e.g. ``veracity check``). Other
    columns are ignored. Metadata cells are matched case-insensitively.
    Like :class:`~veracity.models.linear.TfidfLogisticClassifier`, vocabularies are
    learned once on all training rows before the calibration folds are split.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({
    ...     "text": ["Taxes went up last year."] * 12,
    ...     "speaker": ["ann"] * 6 + ["bob"] * 6,
    ... })
    >>> y = ["reliable"] * 6 + ["fake"] * 6
    >>> model = ClaimsClassifier(min_df=1, cv=3, random_state=0).fit(X, y)
    >>> model.predict(pd.DataFrame({"text": ["Taxes went up."], "speaker": ["bob"]})).tolist()
    ['fake']
    >>> model.explain({"text": "Taxes went up.", "speaker": "bob"}, top_k=1)[0].term
    'speaker: bob'
    """

    #: Every metadata column the class can read (:meth:`model_input` passes those present).
    metadata_columns: ClassVar[tuple[str, ...]] = METADATA

    def __init__(
        self,
        *,
        metadata: tuple[str, ...] = METADATA,
        word_ngram_range: tuple[int, int] = (1, 2),
        char_ngram_range: tuple[int, int] = (2, 5),
        max_word_features: int | None = 100_000,
        max_char_features: int | None = 100_000,
        min_df: int = 2,
        meta_min_count: int = 2,
        speaker_prior: bool = True,
        prior_smoothing: float = 10.0,
        prior_folds: int = 5,
        C: float = 1.0,
        calibration: str = "sigmoid",
        cv: int = 5,
        preprocess: bool = True,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.metadata = metadata
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.max_word_features = max_word_features
        self.max_char_features = max_char_features
        self.min_df = min_df
        self.meta_min_count = meta_min_count
        self.speaker_prior = speaker_prior
        self.prior_smoothing = prior_smoothing
        self.prior_folds = prior_folds
        self.C = C
        self.calibration = calibration
        self.cv = cv
        self.preprocess = preprocess
        self.random_state = random_state

    @property
    def uses_metadata(self) -> tuple[str, ...]:
        """The metadata columns this model reads (what :meth:`model_input` passes it)."""
        return tuple(c for c in self.metadata_columns if c in tuple(self.metadata))

    def model_input(self, data: Any) -> Any:
        """``X`` for the rows of ``data``: their texts, plus the metadata this model reads.

        Parameters
        ----------
        data : Dataset, pandas.DataFrame or sequence of str
            A dataset, a frame with a ``doc`` column of model texts (and possibly
            ``speaker``, ``party``… columns), or texts (see :mod:`veracity.models.protocol`).

        Returns
        -------
        list of str or pandas.DataFrame
            The texts, or a frame with a ``text`` column and those of
            :attr:`uses_metadata` that ``data`` has (never ``credit_*``).

        Examples
        --------
        >>> frame = pd.DataFrame({"doc": ["Taxes went up."], "speaker": ["a"], "credit_false": [3]})
        >>> ClaimsClassifier().model_input(frame).columns.tolist()
        ['text', 'speaker']
        >>> ClaimsClassifier(metadata=()).model_input(frame)
        ['Taxes went up.']
        """
        return metadata_frame(model_texts(data), model_frame(data), self.uses_metadata)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.classifier_tags.multi_class = self.calibration != "temperature"
        return tags

    # -- input ---------------------------------------------------------------

    def _check_params(self) -> None:
        if isinstance(self.metadata, str) or not isinstance(self.metadata, tuple | list):
            raise InputError(f"metadata must be a tuple of column names, got {self.metadata!r}")
        leaky = [c for c in self.metadata if str(c).startswith(_LEAKY_PREFIX)]
        if leaky:
            raise InputError(
                f"metadata {leaky!r} refused: LIAR's credit_* counts include the rating of the "
                "statement being judged (a label leak); the speaker prior is the leak-free "
                "alternative"
            )
        unknown = [c for c in self.metadata if c not in METADATA]
        if unknown:
            raise InputError(f"unknown metadata {unknown!r}; choose from {', '.join(METADATA)}")
        check_ngram_range("word_ngram_range", self.word_ngram_range)
        check_ngram_range("char_ngram_range", self.char_ngram_range)
        _check_int("max_word_features", self.max_word_features, 1, none_ok=True)
        _check_int("max_char_features", self.max_char_features, 1, none_ok=True)
        _check_int("min_df", self.min_df, 1)
        _check_int("meta_min_count", self.meta_min_count, 1)
        _check_int("prior_folds", self.prior_folds, 2)
        _check_int("cv", self.cv, 2)
        _check_positive("prior_smoothing", self.prior_smoothing)
        _check_positive("C", self.C)
        if self.calibration not in _CALIBRATIONS:
            raise InputError(
                f"calibration must be one of {', '.join(_CALIBRATIONS)}, got {self.calibration!r}"
            )

    def _split(self, X: Any) -> tuple[list[str], dict[str, list[str]]]:
        """``(texts, {metadata column: cells})`` of ``X`` (a frame or a sequence of str)."""
        if isinstance(X, pd.DataFrame):
            if "text" not in X.columns:
                raise InputError(
                    "X is a DataFrame without a 'text' column; give the statements in 'text' "
                    f"(columns found: {', '.join(map(str, X.columns))})"
                )
            texts = check_texts(X["text"].tolist())
            meta = {
                c: ["" if pd.isna(v) else str(v) for v in X[c].tolist()]
                for c in self.uses_metadata
                if c in X.columns
            }
            return texts, meta
        return check_texts(X), {}

    def prepare_texts(self, X: Sequence[str]) -> list[str]:
        """The statements as the vectorizers see them (after ``prepare`` if ``preprocess``)."""
        texts = check_texts(X)
        return [prepare(t) for t in texts] if self.preprocess else texts

    def _use_prior(self) -> bool:
        return bool(self.speaker_prior) and "speaker" in tuple(self.metadata)

    # -- fitting -------------------------------------------------------------

    def fit(self, X: Any, y: Any, sample_weight: Any | None = None) -> ClaimsClassifier:
        """Learn the vocabularies, the speaker prior, the regression and its calibration.

        Parameters
        ----------
        X : pandas.DataFrame or sequence of str
            A frame with a ``text`` column and metadata columns (see Notes), or texts.
        y : array-like of shape (n_rows,)
            Their labels (e.g. LIAR's six ratings, or ``"fake"`` / ``"reliable"``).
        sample_weight : array-like of shape (n_rows,), optional
            Per-row weights for the regression and the calibrator (the speaker prior
            counts rows unweighted).

        Returns
        -------
        ClaimsClassifier
            ``self``, fitted.
        """
        self._check_params()
        raw, meta = self._split(X)
        texts = [prepare(t) for t in raw] if self.preprocess else raw
        y = column_or_1d(y, warn=True)
        if len(y) != len(texts):
            raise InputError(f"X has {len(texts)} rows but y has {len(y)} labels")
        check_classification_targets(y)
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, dtype=np.float64)
            if sample_weight.shape != (len(texts),):
                raise InputError(
                    f"sample_weight must have shape ({len(texts)},), got {sample_weight.shape}"
                )
        labels, counts = np.unique(y, return_counts=True)
        names = labels.tolist()
        if len(labels) < 2:
            raise InputError(f"y has only one class ({names[0]!r}); training needs two or more")
        if self.calibration == "temperature" and len(labels) > 2:
            raise InputError(
                "Only binary classification is supported with calibration='temperature': "
                f"y has {len(labels)} classes; use 'sigmoid' or 'isotonic'"
            )
        if counts.min() < self.cv:
            rare = names[int(np.argmin(counts))]
            raise InputError(
                f"calibration uses cv={self.cv} folds, so every class needs at least {self.cv} "
                f"rows; class {rare!r} has {counts.min()}. Add rows or lower cv."
            )
        if self._use_prior() and len(texts) < self.prior_folds:
            raise InputError(
                f"the speaker prior uses prior_folds={self.prior_folds} folds, so it needs at "
                f"least that many rows; X has {len(texts)}. Add rows or lower prior_folds."
            )
        rng = check_random_state(self.random_state)
        prior_seed, cv_seed = (int(s) for s in rng.randint(np.iinfo(np.int32).max, size=2))

        word, char, blocks = fit_word_char_tfidf(
            texts,
            word_ngram_range=self.word_ngram_range,
            char_ngram_range=self.char_ngram_range,
            max_word_features=self.max_word_features,
            max_char_features=self.max_char_features,
            min_df=self.min_df,
        )
        meta_vectorizer: CountVectorizer | None = None
        docs = metadata_documents(meta, len(texts))
        if any(docs):
            meta_vectorizer = CountVectorizer(
                token_pattern=r"\S+",
                lowercase=False,
                binary=True,
                min_df=self.meta_min_count,
                dtype=np.float32,
            )
            try:
                blocks.append(meta_vectorizer.fit_transform(docs))
            except ValueError:  # no token is frequent enough: no metadata block
                meta_vectorizer = None
        onehot = (y[:, None] == labels[None, :]).astype(np.float64)
        speakers: list[str] | None = None
        speaker_counts: NDArray[np.float64] | None = None
        if self._use_prior():
            keys = [metadata_token(v) for v in meta.get("speaker", [""] * len(texts))]
            blocks.append(
                sp.csr_matrix(
                    out_of_fold_prior(
                        keys,
                        onehot,
                        folds=int(self.prior_folds),
                        smoothing=float(self.prior_smoothing),
                        random_state=prior_seed,
                    )
                )
            )
            table = count_table(keys, onehot)
            speakers = sorted(table)
            speaker_counts = (
                np.vstack([table[k] for k in speakers])
                if speakers
                else np.zeros((0, len(labels)), dtype=np.float64)
            )
        features = sp.hstack(blocks, format="csr")

        linear = LogisticRegression(C=float(self.C), solver="lbfgs", max_iter=2000)
        folds = StratifiedKFold(n_splits=int(self.cv), shuffle=True, random_state=cv_seed)
        calibrated, final, temperature, classes = fit_calibrated(
            linear,
            features,
            y,
            calibration=self.calibration,
            folds=folds,
            sample_weight=sample_weight,
        )

        self.word_vectorizer_ = word
        self.char_vectorizer_ = char
        self.meta_vectorizer_ = meta_vectorizer
        self.prior_speakers_ = speakers
        self.prior_counts_ = speaker_counts
        self.class_prior_ = onehot.mean(axis=0)
        self.calibrated_ = calibrated
        self.linear_ = final
        self.temperature_ = temperature
        self.classes_ = classes
        return self

    # -- prediction ----------------------------------------------------------

    def _features(self, X: Any) -> sp.csr_matrix:
        check_is_fitted(self)
        raw, meta = self._split(X)
        texts = [prepare(t) for t in raw] if self.preprocess else raw
        blocks = [self.word_vectorizer_.transform(texts), self.char_vectorizer_.transform(texts)]
        if self.meta_vectorizer_ is not None:
            blocks.append(self.meta_vectorizer_.transform(metadata_documents(meta, len(texts))))
        if self.prior_speakers_ is not None and self.prior_counts_ is not None:
            keys = [metadata_token(v) for v in meta.get("speaker", [""] * len(texts))]
            table = dict(zip(self.prior_speakers_, self.prior_counts_, strict=True))
            blocks.append(
                sp.csr_matrix(
                    prior_rows(keys, table, self.class_prior_, float(self.prior_smoothing))
                )
            )
        return sp.hstack(blocks, format="csr")

    def _linear(self) -> LogisticRegression:
        check_is_fitted(self)
        if self.calibrated_ is None:
            return self.linear_
        return self.calibrated_.calibrated_classifiers_[0].estimator

    def predict_proba(self, X: Any) -> NDArray[np.float64]:
        """Calibrated class probabilities, columns in the order of ``classes_``."""
        features = self._features(X)
        if self.temperature_ is not None:
            p1 = temperature_proba(self._linear().decision_function(features), self.temperature_)
            return np.column_stack([1.0 - p1, p1])
        proba: NDArray[np.float64] = self.calibrated_.predict_proba(features)
        return proba

    def predict(self, X: Any) -> NDArray[Any]:
        """The most probable class of each row."""
        proba = self.predict_proba(X)
        result: NDArray[Any] = self.classes_[np.argmax(proba, axis=1)]
        return result

    def decision_function(self, X: Any) -> NDArray[np.float64]:
        """Calibrated log-odds of ``classes_[1]`` (two classes), else log-probabilities."""
        proba = np.clip(self.predict_proba(X), _EPS, 1.0 - _EPS)
        if len(self.classes_) == 2:
            log_odds: NDArray[np.float64] = np.log(proba[:, 1]) - np.log(proba[:, 0])
            return log_odds
        log_proba: NDArray[np.float64] = np.log(proba)
        return log_proba

    def linear_weights(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``(coef, intercept)`` of the final regression; columns: word, char, metadata, prior."""
        linear = self._linear()
        return (
            np.asarray(linear.coef_, dtype=np.float64),
            np.asarray(linear.intercept_, dtype=np.float64),
        )

    # -- explanation ---------------------------------------------------------

    def attribution(self, text: str | Mapping[str, Any]) -> Attribution:
        """The calibrated log-odds of ``"fake"`` for a statement, taken apart.

        Words of the statement as in :func:`veracity.explain.linear_attribution`;
        metadata tokens as signals ``"speaker: barack-obama"``, ``"subject: taxes"``,
        and the speaker prior as ``"speaker record: barack-obama"``. For two classes in
        units of the calibrated log-odds of ``"fake"`` (or of ``classes_[1]``); for
        more, raw units of the predicted class's centred logit.
        """
        check_is_fitted(self)
        row: dict[str, Any] = (
            {"text": text} if isinstance(text, str) else {k: [v] for k, v in text.items()}
        )
        if isinstance(text, str):
            X: Any = [text]
            statement = text
        else:
            X = pd.DataFrame(row)
            statement = str(X["text"].iloc[0])
        classes: list[Any] = np.asarray(self.classes_).tolist()
        two = len(classes) == 2
        target = (FAKE if FAKE in classes else classes[1]) if two else self.predict(X)[0]
        coef, _ = self.linear_weights()
        if two:
            weights = (1.0 if target == classes[1] else -1.0) * coef[0]
        else:
            weights = (coef - coef.mean(axis=0))[classes.index(target)]
        values = self._features(X).toarray()[0]
        start = len(self.word_vectorizer_.vocabulary_) + len(self.char_vectorizer_.vocabulary_)
        signals: dict[str, float] = {}
        if self.meta_vectorizer_ is not None:
            names = self.meta_vectorizer_.get_feature_names_out()
            for j in range(start, start + len(names)):
                value = float(values[j])
                if value:
                    column, _, token = str(names[j - start]).partition("=")
                    signals[f"{column}: {token}"] = float(value * weights[j])
            start += len(names)
        if self.prior_speakers_ is not None:
            share = float(values[start:] @ weights[start:])
            speaker = (
                metadata_token(row.get("speaker", [""])[0]) if not isinstance(text, str) else ""
            )
            if speaker and share:
                signals[f"speaker record: {speaker}"] = share
        meta_start = len(self.word_vectorizer_.vocabulary_) + len(self.char_vectorizer_.vocabulary_)
        extra_score = float(values[meta_start:] @ weights[meta_start:])
        return linear_attribution(
            self,
            statement,
            target=target,
            log_odds=calibrator_log_odds(self, target) if two else None,
            extra=(signals, extra_score),
        )

    def explain(self, text: str | Mapping[str, Any], top_k: int = 5) -> list[Evidence]:
        """Up to ``top_k`` phrases and signals per direction, and the telling sentences.

        Parameters
        ----------
        text : str or mapping
            A statement, or one row as a mapping with ``"text"`` and metadata keys
            (``{"text": …, "speaker": "barack-obama", …}``).
        top_k : int, default=5
            Phrases (and signals) per direction.

        Returns
        -------
        list of Evidence
            See :func:`veracity.explain.rank_evidence` and :meth:`attribution`.
        """
        return rank_evidence(self.attribution(text), top_k)

    # -- persistence ---------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        """State with each TF-IDF vocabulary as one newline-joined string (small skops files).

        See :func:`veracity.models._text_input.compact_vocabularies`.
        """
        return compact_vocabularies(
            super().__getstate__(), ("word_vectorizer_", "char_vectorizer_")
        )

    def __setstate__(self, state: dict[str, Any]) -> None:
        state, vocabularies = pop_vocabularies(state)
        super().__setstate__(state)
        set_vocabularies(self, vocabularies)
