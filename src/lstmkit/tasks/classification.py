"""Classification: name the class of a numeric sequence (`SequenceClassifier`) or a text
(`TextClassifier`).

The story of ``fit``, the same for both:

1. **read** the inputs into padded arrays with their real lengths (numeric sequences
   from arrays, long tables, ``.npz`` or ``.ts`` files; texts from lists, tables or
   folders) and check the labels: at least two classes, a warning for a class with a
   single example;
2. **split** off a stratified validation part for early stopping (when there is
   enough data; otherwise train for ``max_epochs`` on everything);
3. **prepare** on the training part only: per-channel scaling for sequences, the
   tokeniser's vocabulary (characters, words or byte-pair subwords) for texts, and
   optionally pretrained word vectors;
4. **train** ``ensemble`` `lstmkit.models.ClassifierNet` s (different seeds) with
   cross-entropy on batches of similar lengths, padded and masked;
5. **predict** the mean of the members' class probabilities.

``evaluate`` scores predictions with accuracy, macro-F1 and a confusion matrix
(`ClassificationReport`); labels the model never saw are warned about and counted
as errors. ``save`` writes a model directory (safetensors + JSON: configuration,
classes, scaler or tokeniser); ``load`` reads it back without unpickling anything.

The code lives in `classifier_base` (the shared story), `sequence_classifier`,
`text_classifier` and `lstmkit.evaluate.classification`; this module keeps their names
importable from one place.
"""

from __future__ import annotations

from lstmkit.evaluate.classification import ClassificationReport, classification_report
from lstmkit.tasks.sequence_classifier import (
    SequenceClassifier,
    SequenceClassifierConfig,
)
from lstmkit.tasks.text_classifier import (
    TEXT_LEVELS,
    TextClassifier,
    TextClassifierConfig,
)

__all__ = [
    "SequenceClassifierConfig",
    "SequenceClassifier",
    "TextClassifierConfig",
    "TextClassifier",
    "ClassificationReport",
    "classification_report",
    "TEXT_LEVELS",
]
