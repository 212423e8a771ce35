"""What the lessons that learn digit images (digits, conv) write alike: the data sheet (a
row per image: its number, split, row in the source, label, pixels; the pixel scale),
the validation images' scaled pixels, the draw sheet's grid and the confusion matrix."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..engine import Block, Ref, Role, Sheet, Workbook, sumproduct

DIGITS = 10


@dataclass(frozen=True)
class ImageCells:
    """The data sheet's cells the other sheets read: the pixel scale (absolute), and the
    training and validation images' labels and pixels (a row per image)."""

    scale: Ref
    train_labels: Block
    train_pixels: Block
    valid_labels: Block
    valid_pixels: Block


@dataclass
class Validation:
    """Each epoch's validation loss and accuracy; the labels and the last predictions."""

    labels: Block
    loss: list[Ref] = field(default_factory=list)
    accuracy: list[Ref] = field(default_factory=list)
    predictions: Block | None = None


def add_images(
    wb: Workbook, p: Any, side: int, pixels: int, scale: float, first_row: int
) -> ImageCells:
    """The data sheet for `p`'s images (`p.images`, `p.train`, `p.valid`), from 1-based row
    `first_row`."""
    s = wb.add_sheet("data")
    s.label(
        "A1",
        f"{p.train} training and {p.valid} validation images, {side}x{side} pixels, row by row",
    )
    s.label("A2", "pixel scale")
    scale_cell = s.input(
        "C2",
        scale,
        note="pixels are divided by this to lie in [0, 1] (16 for the 8x8 digits, 255 for MNIST)",
    )
    heads = ["image", "split", "from row", "label"] + [f"p{j + 1}" for j in range(pixels)]
    for j, text in enumerate(heads):
        s.header((first_row - 2, j), text)
    images = p.images
    for i, row in enumerate(images.rows()):
        r = first_row - 1 + i
        s.set((r, 0), float(i + 1), Role.LABEL)
        s.label((r, 1), "train" if i < p.train else "valid")
        s.set((r, 2), row[0], Role.LABEL)
    table = Block(s, first_row - 1, 3, len(images.labels), 1 + pixels)
    table.inputs(
        [row[1:] for row in images.rows()],
        note="the images: label, then pixels (change one and the whole training follows)",
    )
    s.freeze = (first_row - 1, 4)
    s.width(0, 7.0, 3)
    s.width(4, 4.5, 3 + pixels)
    train = table.part(0, 0, p.train, table.cols)
    valid = table.part(p.train, 0, p.valid, table.cols)
    return ImageCells(
        scale_cell.fixed(),
        train.part(0, 0, p.train, 1),
        train.part(0, 1, p.train, pixels),
        valid.part(0, 0, p.valid, 1),
        valid.part(0, 1, p.valid, pixels),
    )


def add_confusion(wb: Workbook, epochs: int, labels: Block, predictions: Block) -> None:
    """The confusion matrix of the validation images after the last epoch: a SUMPRODUCT
    of two conditions per cell, rows the true digit, columns the predicted one."""
    s = wb.add_sheet("confusion")
    s.label(
        "A1",
        f"Validation images after epoch {epochs}: rows are the true digit, "
        "columns the predicted one; the diagonal is right.",
    )
    s.header("A3", "true \\ predicted")
    truth, preds = labels.col(0).fixed(), predictions.col(0).fixed()
    for k in range(DIGITS):
        s.set((2, 1 + k), float(k), Role.HEADER)
        s.set((3 + k, 0), float(k), Role.HEADER)
    grid = Block(s, 3, 1, DIGITS, DIGITS)
    true_k, pred_k = Block(s, 3, 0, DIGITS, 1), Block(s, 2, 1, 1, DIGITS)
    grid.fill(
        lambda i, j: sumproduct(
            (truth.eq(true_k.fixed_col()[i, 0])) * (preds.eq(pred_k.fixed_row()[0, j]))
        ),
        note="SUMPRODUCT((label = row's digit) * (prediction = column's digit)): how many images",
    )
    s.color_scales.append((3, 1, 3 + DIGITS - 1, DIGITS, False))
    s.width(0, 16.0)


def add_valid_images(
    s: Sheet, p: Any, images: ImageCells, top: int, left: int, note: str, number_format: str
) -> tuple[Block, Block]:
    """The validation images on sheet `s` from 0-based row `top`: their numbers, labels and
    scaled pixels (from column `left`), each a formula of the data sheet's cells."""
    pixels = images.valid_pixels.cols
    for j, text in enumerate(["image", "label"] + [f"x{j + 1}" for j in range(pixels)]):
        s.header((top - 1, j), text)
    for i in range(p.valid):
        s.set((top + i, 0), float(p.train + i + 1), Role.LABEL)
    label = Block(s, top, 1, p.valid, 1)
    label.fill(lambda i, _: images.valid_labels[i, 0])
    scaled = Block(s, top, left, p.valid, pixels)
    scaled.fill(lambda i, j: images.valid_pixels[i, j] / images.scale, note, number_format)
    return label, scaled


def add_drawing(
    wb: Workbook,
    p: Any,
    side: int,
    maximum: float,
    who: str,
    top: int,
    left: int,
    scale: Ref,
    number_format: str,
) -> tuple[Sheet, Block]:
    """The draw sheet's grid of yellow pixels (the first validation image to start) and,
    from 0-based row `top`, the same pixels scaled in one row from column `left`."""
    s = wb.add_sheet("draw")
    s.label(
        "A1",
        f"Draw a digit: type pixel values (0 to {maximum:g}) in the yellow "
        f"grid; the trained {who}'s probabilities follow.",
    )
    grid = Block(s, 2, 1, side, side)
    first = p.images.pixels[p.train]
    grid.inputs(
        [[first[r * side + c] for c in range(side)] for r in range(side)],
        note="starts as the first validation image; type your own",
    )
    s.color_scales.append((2, 1, 1 + side, side, False))
    s.header((top, 0), "pixels, scaled, in one row")
    flat = Block(s, top + 1, left, 1, side * side)
    flat.fill(lambda _, j: grid.fixed()[j // side, j % side] / scale, number_format=number_format)
    return s, flat
