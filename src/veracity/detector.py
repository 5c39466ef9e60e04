"""Check texts with a model: probabilities become verdicts with evidence and abstention.

:class:`Detector` wraps a verified artifact (:class:`~veracity.models.artifact.LoadedModel`)
and the :class:`~veracity.settings.Settings` that say when to abstain. The module-level
:func:`check` is the one-line API; it loads the model on first use (never at import)
and keeps it in a small cache keyed by the model's resolved path.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Literal, overload

from veracity.errors import InputError, InputTooLargeError, ModelError, ModelNotFoundError
from veracity.models import artifact
from veracity.models.artifact import LoadedModel
from veracity.settings import Settings
from veracity.text import is_normalized, word_stats
from veracity.types import FAKE, LABELS, RELIABLE, CheckFailure, Evidence, Verdict

__all__ = ["Detector", "check", "default_model_path", "load_model"]

#: Texts scored in one model call at most (``check_many`` and ``scores`` go chunk by
#: chunk): the hashed n-gram counts of one ISOT article take about 100 kB, so scoring a
#: batch of 10,000 at once peaked over 1.5 GB.
_SCORE_CHUNK = 256
# A UTF-8 character is at most 4 bytes: texts shorter than limit/4 characters
# need no encoding to know they fit.
_MAX_UTF8_BYTES_PER_CHAR = 4


def default_model_path() -> Path:
    """Where the bundled default model lives (it may not be installed)."""
    return Path(str(resources.files("veracity") / "resources" / "default_model"))


def _resolve_model_path(path: str | Path | None, settings: Settings) -> Path:
    if path is not None:
        return Path(path)
    if settings.model_dir is not None:
        return Path(settings.model_dir)
    bundled = default_model_path()
    if not bundled.is_dir():
        raise ModelNotFoundError(
            f"no model was given and the bundled default model is not installed ({bundled}). "
            "Train one with `veracity train …` and pass its directory, "
            "or set VERACITY_MODEL_DIR to it."
        )
    return bundled


def _check_size(text: str, limit: int, where: str) -> None:
    """InputTooLargeError when ``text`` is over ``limit`` bytes of UTF-8 (cheap checks first)."""
    if len(text) > limit:  # every character is at least one byte
        raise InputTooLargeError(
            f"{where} is too large: {len(text):,} characters is over the limit of "
            f"{limit:,} bytes (max_document_bytes). Check a shorter excerpt."
        )
    if len(text) * _MAX_UTF8_BYTES_PER_CHAR > limit:
        size = len(text.encode("utf-8", errors="surrogatepass"))
        if size > limit:
            raise InputTooLargeError(
                f"{where} is too large: {size:,} bytes of UTF-8 is over the limit of "
                f"{limit:,} bytes (max_document_bytes). Check a shorter excerpt."
            )


def _check_unicode(text: str, where: str) -> None:
    """Refuse a lone surrogate (undecodable bytes smuggled in by ``surrogateescape``).

    It is not a character: no encoder can write it, so the evidence, which quotes the
    text, could not be printed, stored or sent back.
    """
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InputError(
            f"{where} is not valid Unicode text: a lone surrogate "
            f"U+{ord(text[exc.start]):04X} at character {exc.start:,} (bytes that were not "
            "UTF-8?); save the text as UTF-8"
        ) from None


class Detector:
    """Turns texts into :class:`~veracity.types.Verdict` objects with one model.

    Parameters
    ----------
    model : LoadedModel
        A verified artifact whose estimator predicts ``"fake"`` and ``"reliable"``.
    settings : Settings, optional
        Abstention band, length and language thresholds, size limit and number of
        evidence terms; ``Settings()`` when omitted.

    Examples
    --------
    >>> detector = Detector.from_path("path/to/model")  # doctest: +SKIP
    >>> detector.check("WASHINGTON (Reuters) - The Senate passed ...").verdict  # doctest: +SKIP
    'reliable'
    """

    def __init__(self, model: LoadedModel, settings: Settings | None = None) -> None:
        self.model = model
        self.settings = settings if settings is not None else Settings()
        classes = [str(c) for c in model.estimator.classes_]
        if sorted(classes) != sorted(LABELS):
            raise ModelError(
                f"the model at {model.path} predicts {classes}, but a Detector needs a model "
                f"trained on the labels {list(LABELS)}; train one with `veracity train`"
            )
        self._fake_column = classes.index(FAKE)

    @classmethod
    def from_path(
        cls,
        path: str | Path | None = None,
        settings: Settings | None = None,
        *,
        fast: bool = False,
    ) -> Detector:
        """Load and verify the model at ``path`` (default: ``settings.model_dir``, else bundled).

        ``fast`` loads a ``hashing-sgd.v2`` model (the bundled one) for checking only,
        without scikit-learn (see :func:`veracity.models.artifact.load_model`): the same
        verdicts, a fraction of the start-up time and memory.
        """
        settings = settings if settings is not None else Settings()
        return cls(artifact.load_model(_resolve_model_path(path, settings), fast=fast), settings)

    @property
    def model_id(self) -> str:
        """The id of the model, from its card."""
        return self.model.card.model_id

    @property
    def estimator(self) -> Any:
        """The fitted scikit-learn estimator inside the model."""
        return self.model.estimator

    def _validate(self, text: Any, where: str) -> str:
        if not isinstance(text, str):
            raise InputError(f"{where} must be a str, got {type(text).__name__}")
        _check_size(text, self.settings.max_document_bytes, where)
        if not text.strip():
            raise InputError(f"nothing to check: {where} is empty or only whitespace")
        _check_unicode(text, where)
        return text

    def check(self, text: str) -> Verdict:
        """The verdict for one text (raw article or normalized text)."""
        return self._verdicts([self._validate(text, "the text")])[0]

    @overload
    def check_many(
        self, texts: Sequence[str], *, errors: Literal["raise"] = "raise"
    ) -> list[Verdict]: ...

    @overload
    def check_many(
        self, texts: Sequence[str], *, errors: Literal["report"]
    ) -> list[Verdict | CheckFailure]: ...

    def check_many(
        self, texts: Sequence[str], *, errors: Literal["raise", "report"] = "raise"
    ) -> list[Verdict] | list[Verdict | CheckFailure]:
        """Verdicts for many texts, with one model call for all their probabilities.

        Parameters
        ----------
        texts : sequence of str
            Raw articles or normalized texts.
        errors : {"raise", "report"}, default "raise"
            What a bad text (empty, only whitespace, not a str, over the size limit)
            does. ``"raise"``: the first one raises :class:`~veracity.errors.InputError`
            naming it by index (``text #3``) and nothing is checked. ``"report"``: it
            gets a :class:`~veracity.types.CheckFailure` with its index and error at its
            place in the list, and every other text its verdict.

        Returns
        -------
        list
            One entry per text, in order: a :class:`~veracity.types.Verdict`, or with
            ``errors="report"`` a :class:`~veracity.types.CheckFailure` for a bad text.

        Examples
        --------
        >>> results = detector.check_many([article, "  "], errors="report")  # doctest: +SKIP
        >>> [type(r).__name__ for r in results]  # doctest: +SKIP
        ['Verdict', 'CheckFailure']
        >>> results[1].message  # doctest: +SKIP
        'nothing to check: text #1 is empty or only whitespace'
        """
        if isinstance(texts, str | bytes):
            raise InputError("check_many takes a sequence of texts; for one text use check()")
        if errors == "raise":
            checked = [self._validate(t, f"text #{i}") for i, t in enumerate(texts)]
            return self._verdicts(checked) if checked else []
        if errors != "report":
            raise InputError(f"errors must be 'raise' or 'report', not {errors!r}")
        failures: dict[int, CheckFailure] = {}
        good: list[str] = []
        for i, text in enumerate(texts):
            try:
                good.append(self._validate(text, f"text #{i}"))
            except InputError as exc:
                failures[i] = CheckFailure(i, exc)
        verdicts = iter(self._verdicts(good) if good else [])
        return [failures[i] if i in failures else next(verdicts) for i in range(len(texts))]

    def scores(self, texts: Sequence[str]) -> tuple[Any, Any | None, Any | None]:
        """``(p_fake, novelty, halfwidth)`` for each text, one model call a chunk of texts.

        ``novelty`` (how unlike the training texts each text is, 0 to 1) and ``halfwidth``
        (of the model's own "not sure" band around 0.5, wider for novel texts) are None
        for models that do not measure them.
        """
        import numpy as np

        pieces = [
            self._scored(texts[k : k + _SCORE_CHUNK], with_parts=False)
            for k in range(0, len(texts), _SCORE_CHUNK)
        ] or [self._scored(texts, with_parts=False)]

        def joined(i: int) -> Any | None:
            return None if pieces[0][i] is None else np.concatenate([p[i] for p in pieces])

        return joined(0), joined(1), joined(2)

    def _scored(
        self, texts: Sequence[str], *, with_parts: bool
    ) -> tuple[Any, Any | None, Any | None, Any | None]:
        """:meth:`scores` and, for a model with ``check_parts``, each text's parts (what
        scoring computed for it, which its evidence reuses); None for other models or
        without ``with_parts``."""
        estimator = self.model.estimator
        parts = None
        if with_parts and hasattr(estimator, "check_parts"):
            proba, novelty, parts = estimator.check_parts(texts)
        elif hasattr(estimator, "proba_and_novelty"):
            proba, novelty = estimator.proba_and_novelty(texts)
        else:
            return estimator.predict_proba(texts)[:, self._fake_column], None, None, None
        half = estimator.abstain_halfwidth(novelty)
        return proba[:, self._fake_column], novelty, half, parts

    def _verdicts(self, texts: list[str]) -> list[Verdict]:
        verdicts: list[Verdict] = []
        for k in range(0, len(texts), _SCORE_CHUNK):
            chunk = texts[k : k + _SCORE_CHUNK]
            # parts serve only the evidence: without it, scoring does not build them
            proba, novelty, half, parts = self._scored(
                chunk, with_parts=self.settings.evidence_terms > 0
            )
            verdicts += [
                self._verdict(
                    text,
                    float(p),
                    None if novelty is None else float(novelty[i]),
                    None if half is None else float(half[i]),
                    None if parts is None else parts[i],
                )
                for i, (text, p) in enumerate(zip(chunk, proba, strict=True))
            ]
        return verdicts

    def _evidence(self, text: str, parts: Any | None = None) -> list[Evidence]:
        explain = getattr(self.model.estimator, "explain", None)
        if explain is None or self.settings.evidence_terms == 0:
            return []
        top_k = self.settings.evidence_terms
        evidence: list[Evidence] = (
            explain(text, top_k=top_k) if parts is None else explain(text, top_k=top_k, parts=parts)
        )
        return evidence

    def abstain_reason(
        self,
        text: str,
        p_fake: float,
        novelty: float | None = None,
        halfwidth: float | None = None,
    ) -> str | None:
        """Why veracity would answer "not sure" for ``text`` with this P(fake), or None.

        Reasons, joined by "; ": the text does not look like English, it has fewer
        than ``min_words`` words, ``p_fake`` lies in the settings' abstention band, or
        in the model's own band (``halfwidth`` around 0.5, chosen on datasets the
        model never saw), which widens with the text's ``novelty``: inside it only
        because of that widening, the text is "unlike the texts veracity was trained on".
        """
        s = self.settings
        reasons = []
        words, english = word_stats(text)
        if english < s.min_english_ratio:  # looks_english(text, s.min_english_ratio)
            reasons.append("does not look like English")
        if words < s.min_words:
            reasons.append(f"too short: {words} words, need at least {s.min_words}")
        if s.abstain_low <= p_fake <= s.abstain_high:
            reasons.append(
                f"the model is not sure: probability of fake {p_fake:.2f} is inside the "
                f"{s.abstain_low:.2f}\u2013{s.abstain_high:.2f} band"
            )
        elif halfwidth is not None and abs(p_fake - 0.5) < halfwidth:
            base = float(getattr(self.model.estimator, "abstain_base_", halfwidth))
            if abs(p_fake - 0.5) < base or novelty is None:
                reasons.append(
                    f"the model is not sure: probability of fake {p_fake:.2f} is within "
                    f"{base:.2f} of 0.5, where it is right too rarely on sources it never saw"
                )
            else:
                reasons.append(
                    f"unlike the texts veracity was trained on: {novelty:.0%} of its words "
                    "are new to it, so a probability this close to 0.5 is not enough"
                )
        return "; ".join(reasons) or None

    def _verdict(
        self,
        text: str,
        p_fake: float,
        novelty: float | None = None,
        halfwidth: float | None = None,
        parts: Any | None = None,
    ) -> Verdict:
        reason = self.abstain_reason(text, p_fake, novelty, halfwidth)
        return Verdict(
            label=FAKE if p_fake >= 0.5 else RELIABLE,
            probability=p_fake,
            abstained=reason is not None,
            evidence=self._evidence(text, parts),
            reason=reason,
            input_form="normalized" if is_normalized(text) else "raw",
            model_id=self.model_id,
            band_halfwidth=halfwidth,
        )


@functools.lru_cache(maxsize=4)
def _cached_model(path: Path) -> LoadedModel:
    return artifact.load_model(path, fast=True)


def load_model(path: str | Path | None = None, settings: Settings | None = None) -> Detector:
    """Load, verify and wrap the model at ``path`` in a :class:`Detector`.

    ``path`` defaults to ``settings.model_dir``, else the bundled model. To load
    the bare artifact (estimator and card) use
    :func:`veracity.models.artifact.load_model`.

    Raises
    ------
    veracity.errors.ModelNotFoundError
        No model there (or, with no path, no bundled model).
    veracity.errors.ModelIntegrityError
        The artifact failed verification.
    """
    return Detector.from_path(path, settings)


def check(
    text: str,
    *,
    model: Detector | LoadedModel | str | Path | None = None,
    settings: Settings | None = None,
) -> Verdict:
    """Check one text: is it reliable, fake, or is veracity not sure?

    Parameters
    ----------
    text : str
        A raw article or its normalized (seed-form) text.
    model : Detector, LoadedModel, path or None
        What to check with; a path or None (``settings.model_dir``, else the bundled
        model) is loaded on first use and cached by resolved path for the process.
    settings : Settings, optional
        Overrides the detector's settings; ``Settings()`` when omitted.

    Examples
    --------
    >>> import veracity.detector
    >>> veracity.detector.check("An article ...", model="path/to/model")  # doctest: +SKIP
    Verdict(label='reliable', probability=0.08, abstained=False, ...)
    """
    if isinstance(model, Detector):
        detector = model if settings is None else Detector(model.model, settings)
    elif isinstance(model, LoadedModel):
        detector = Detector(model, settings)
    else:
        settings = settings if settings is not None else Settings()
        resolved = _resolve_model_path(model, settings).resolve()
        detector = Detector(_cached_model(resolved), settings)
    return detector.check(text)
