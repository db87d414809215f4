"""Labelled message files for `shanzhi routing evaluate`: csv (UTF-8, with or without BOM) or
xlsx, a header row naming the columns title, text and label (in any order; others ignored)."""

import csv
from pathlib import Path

from openpyxl import load_workbook

from shanzhi.errors import DomainError

from .pipeline import Doc

COLUMNS = ("title", "text", "label")


class DatasetError(DomainError):
    code = "dataset_invalid"


def _rows(path: Path) -> list[list[str]]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        try:
            with path.open(encoding="utf-8-sig", newline="") as handle:
                return [list(row) for row in csv.reader(handle)]
        except UnicodeDecodeError as exc:
            raise DatasetError(f"{path.name} 不是 UTF-8 编码的 csv 文件") from exc
    if suffix == ".xlsx":
        sheet = load_workbook(path, read_only=True, data_only=True).worksheets[0]
        return [
            ["" if cell is None else str(cell) for cell in row]
            for row in sheet.iter_rows(values_only=True)
        ]
    raise DatasetError(f"{path.name}:只支持 .csv 或 .xlsx 文件")


def dataset_read(path: Path) -> tuple[list[Doc], list[str]]:
    """The messages and their labels; rows without a label or without any text are skipped."""
    if not path.is_file():
        raise DatasetError(f"找不到文件 {path}")
    rows = _rows(path)
    if not rows:
        raise DatasetError(f"{path.name} 是空文件")
    header = [cell.strip().lower() for cell in rows[0]]
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        raise DatasetError(f"{path.name} 缺少列:{'、'.join(missing)}(须有 title、text、label)")
    at = {name: header.index(name) for name in COLUMNS}
    docs, labels = [], []
    for row in rows[1:]:
        cells = {name: (row[i].strip() if i < len(row) else "") for name, i in at.items()}
        if cells["label"] and (cells["title"] or cells["text"]):
            docs.append(Doc(cells["title"], cells["text"]))
            labels.append(cells["label"])
    if not docs:
        raise DatasetError(f"{path.name} 没有带类别的数据行")
    return docs, labels
