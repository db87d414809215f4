"""The text router itself: title and description in, labels with a calibrated confidence out.

Pure scikit-learn, no Django, so that `shanzhi routing evaluate` trains on anyone's labelled file
exactly the pipeline a street trains on its own cases. Chinese is read by character unigrams and
bigrams, which need no dictionary and so keep the shop, estate and road names a segmenter does not
know. (Whole words from jieba's shipped dictionary, tried beside them, scored lower on the
development sample: with a few hundred messages, words are too rare to learn from.)

The classifier is a linear SVM calibrated by Platt scaling: three SVMs, each fitted on two
thirds of the examples and scaled on the third it did not see, whose probabilities are averaged.
Besides a confidence a dispatcher can read, the averaging scored better on the development
sample than one SVM on everything (and better than adding a naive Bayes or a logistic
regression beside it).
"""

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

# Place codes (A市, A3区, G7县, 3栋) and numbers say nothing about the kind of matter; left in, a
# small sample learns that "A7县" means 城乡建设.
NOISE = re.compile(r"[A-Z]\d*[市区县镇乡村]|\d+")
# Calibration holds back part of each class, so a label needs this many examples to be learnt.
MIN_PER_CLASS = 2
CALIBRATION_FOLDS = 3


@dataclass(frozen=True)
class Doc:
    title: str
    text: str

    @property
    def joined(self) -> str:
        return NOISE.sub(" ", f"{self.title}\n{self.text}")


def _vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(analyzer="char", ngram_range=(1, 2))


def _pipeline(folds: int) -> Pipeline:
    svm = CalibratedClassifierCV(LinearSVC(), cv=folds, method="sigmoid")
    return Pipeline([("tfidf", _vectorizer()), ("svm", svm)])


class Router:
    """A fitted text router. `classes` are the labels it can name.

    `proba` computes what the fitted pipeline's `predict_proba` does (tests hold the two equal),
    straight from the fitted weights: sklearn's own path checks its inputs again for every
    class's calibrator, which took most of the time of one suggestion (tens of milliseconds).
    """

    def __init__(self, fitted: Pipeline) -> None:
        self.fitted = fitted
        self.classes = fitted.classes_
        self.tfidf: TfidfVectorizer = fitted.named_steps["tfidf"]
        self.analyse = self.tfidf.build_analyzer()
        self.vocabulary: dict[str, int] = self.tfidf.vocabulary_
        self.idf: np.ndarray = self.tfidf.idf_
        self.folds = []
        index = {label: i for i, label in enumerate(self.classes)}
        for calibrated in fitted.named_steps["svm"].calibrated_classifiers_:
            svm = calibrated.estimator
            columns = [index[label] for label in svm.classes_]
            if len(columns) == 2:  # a binary SVM scores the second class only
                columns = columns[1:]
            a = np.array([c.a_ for c in calibrated.calibrators])
            b = np.array([c.b_ for c in calibrated.calibrators])
            self.folds.append((svm.coef_.T.copy(), svm.intercept_, a, b, columns))

    def _vector(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The message's TF-IDF entries (feature indices, L2-normalised weights)."""
        counts = Counter(i for i in map(self.vocabulary.get, self.analyse(text)) if i is not None)
        if not counts:
            return np.zeros(0, dtype=int), np.zeros(0)
        indices = np.fromiter(counts.keys(), dtype=int, count=len(counts))
        weights = np.fromiter(counts.values(), dtype=float, count=len(counts)) * self.idf[indices]
        return indices, weights / np.linalg.norm(weights)

    def _one(self, text: str) -> np.ndarray:
        indices, weights = self._vector(text)
        n = len(self.classes)
        total = np.zeros(n)
        for coef_t, intercept, a, b, columns in self.folds:
            scores = weights @ coef_t[indices] + intercept
            p = 1.0 / (1.0 + np.exp(a * scores + b))
            fold = np.zeros(n)
            if n == 2:
                fold[columns[0]] = p[0]
                fold[1 - columns[0]] = 1 - p[0]
            else:
                fold[columns] = p
                fold = fold / fold.sum() if fold.sum() > 0 else np.full(n, 1 / n)
            total += fold
        return total / len(self.folds)

    def proba(self, docs: Sequence[Doc]) -> np.ndarray:
        return np.array([self._one(doc.joined) for doc in docs])

    def predict(self, docs: Sequence[Doc]) -> list[str]:
        return [str(self.classes[i]) for i in self.proba(docs).argmax(axis=1)]

    def top(self, doc: Doc, k: int = 3) -> list[tuple[str, float]]:
        """The k likeliest labels for one message, with their probability."""
        row = self.proba([doc])[0]
        order = np.argsort(-row)[:k]
        return [(str(self.classes[i]), float(row[i])) for i in order]


def learnable(labels: Sequence[str]) -> set[str]:
    """The labels with enough examples to learn."""
    return {label for label, n in Counter(labels).items() if n >= MIN_PER_CLASS}


def fit(docs: Sequence[Doc], labels: Sequence[str]) -> Router:
    """Train on the examples whose label has enough of them; at least two labels are needed.

    Each title also counts as an example of its own: a one-line summary of what the message is
    about, without the story around it (on the development sample, +2 points of accuracy).
    """
    keep = learnable(labels)
    if len(keep) < 2:
        raise ValueError("至少需要两个类别、每类至少两条样本才能训练")
    rows = []
    for doc, label in zip(docs, labels, strict=True):
        if label in keep:
            rows.append((doc.joined, label))
            if doc.title.strip() and doc.text.strip():
                rows.append((Doc(doc.title, "").joined, label))
    texts, kept = [t for t, _ in rows], np.array([label for _, label in rows])
    folds = min(CALIBRATION_FOLDS, min(Counter(kept.tolist()).values()))
    return Router(_pipeline(folds).fit(texts, kept))


@dataclass(frozen=True)
class ClassRow:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Evaluation:
    accuracy: float
    macro_f1: float
    rows: list[ClassRow]
    tested: int

    def lines(self) -> list[str]:
        """The report `shanzhi routing evaluate` prints: the headline, then one row per class."""
        width = max([_width(r.label) for r in self.rows] + [4])
        out = [f"accuracy {self.accuracy:.4f} macro_f1 {self.macro_f1:.4f}"]
        out.append(f"{_pad('类别', width)}  precision  recall      f1  support")
        for r in self.rows:
            out.append(
                f"{_pad(r.label, width)}  {r.precision:9.4f}  {r.recall:6.4f}  {r.f1:6.4f}"
                f"  {r.support:7d}"
            )
        return out


def _width(text: str) -> int:
    """Columns a terminal gives the text: two for each Chinese character."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def score(truth: Sequence[str], predicted: Sequence[str]) -> Evaluation:
    labels = sorted(set(truth) | set(predicted))
    p, r, f, s = precision_recall_fscore_support(truth, predicted, labels=labels, zero_division=0)
    rows = [
        ClassRow(label, float(p[i]), float(r[i]), float(f[i]), int(s[i]))
        for i, label in enumerate(labels)
    ]
    return Evaluation(
        accuracy=float(accuracy_score(truth, predicted)),
        macro_f1=float(
            f1_score(truth, predicted, labels=sorted(set(truth)), average="macro", zero_division=0)
        ),
        rows=rows,
        tested=len(truth),
    )


def evaluate(
    train: tuple[Sequence[Doc], Sequence[str]], test: tuple[Sequence[Doc], Sequence[str]]
) -> Evaluation:
    """Train on one labelled set and score on another."""
    router = fit(*train)
    return score(list(test[1]), router.predict(test[0]))


def cross_validate(docs: Sequence[Doc], labels: Sequence[str], k: int, seed: int = 0) -> Evaluation:
    """Stratified k-fold: every example predicted once by a router that never saw it."""
    keep = learnable(labels)
    rows = [(d, label) for d, label in zip(docs, labels, strict=True) if label in keep]
    kept_docs = [d for d, _ in rows]
    kept = np.array([label for _, label in rows])
    folds = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    predicted = np.empty(len(kept), dtype=object)
    for train, test in folds.split(np.zeros(len(kept)), kept):
        router = fit([kept_docs[i] for i in train], kept[train].tolist())
        predicted[test] = router.predict([kept_docs[i] for i in test])
    return score(kept.tolist(), [str(p) for p in predicted])
