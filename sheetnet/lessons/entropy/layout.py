"""entropy_example's parameters and fixed values: plain data, no engine (the reference
imports them too)."""

from __future__ import annotations

from dataclasses import dataclass

from ..contract import INT, LessonParams, ParamError, numbers, pairs, param, texts

PROBABILITIES = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)
CLASSES = ("cat", "dog", "plane", "fish", "building")
OUTPUTS = (
    0.021789294543326676,
    -2.488055919486013,
    -1.7505557283129267,
    2.070409245987718,
    1.2502573466234175,
)
SHIFT = 1.442838937972  # image 2's outputs are image 1's minus this (about)
OUTPUTS_2 = (
    -1.4210496434287527,
    -3.9308948574580924,
    -3.1933946662850063,
    0.6275703080156385,
    -0.19258159134866187,
)
LABELS_PREDS = ((1, 0.5), (1, 0.98), (0, 0.9), (0, 0.5), (1, 0.9))


def _labels_and_probabilities(rows: tuple[tuple[float, float], ...]) -> str | None:
    for label, pred in rows:
        if label not in (0.0, 1.0):
            return f"a label is 0 or 1, not {label:g}"
        if not 0.0 <= pred <= 1.0:
            return f"a prediction is a probability in [0, 1], not {pred:g}"
    return None


@dataclass(frozen=True)
class EntropyParams(LessonParams):
    """The lesson's inputs; the defaults are the original workbook's."""

    classes: tuple[str, ...] = param(CLASSES, kind=texts(5), help="the five class names")
    outputs: tuple[float, ...] = param(
        OUTPUTS, kind=numbers(5), help="image 1's five model outputs (logits)"
    )
    outputs_2: tuple[float, ...] = param(
        OUTPUTS_2, kind=numbers(5), help="image 2's five model outputs"
    )
    true_class: int = param(
        4,
        kind=INT,
        check=lambda v: None if 1 <= v <= 5 else f"a class is 1 to 5, not {v}",
        help="the true class (1-5) of image 1 on the multiclass sheet",
    )
    labels_preds: tuple[tuple[float, float], ...] = param(
        LABELS_PREDS,
        kind=pairs(5),
        check=_labels_and_probabilities,
        help="five label:prediction pairs for the cross-entropy sheets, e.g. 1:0.5,...",
    )

    def check(self) -> None:
        if not (len(self.classes) == len(self.outputs) == len(self.outputs_2) == 5):
            raise ParamError("outputs", "the softmax sheet has exactly five classes")
        if len(self.labels_preds) != 5:
            raise ParamError("labels_preds", "the entropy sheets have exactly five rows")

    def formula_cells(self) -> int:
        """Fixed, whatever the inputs: softmax 5 classes x 7 cells and 4 sums; entropy 5
        rows x 4 and a mean row; log_entropy 5 x 7; multiclass 5 x 4, two results and
        -LN(p) for each of PROBABILITIES."""
        classes, rows = 5, 5
        softmax = classes * 7 + 4
        entropy = (rows + 1) * 4
        multiclass = classes * 4 + 2 + len(PROBABILITIES)
        return softmax + entropy + rows * 7 + multiclass
