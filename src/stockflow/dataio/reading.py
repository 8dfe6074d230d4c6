"""Reading an uploaded table: CSV (UTF-8 with or without BOM, comma or semicolon, quoted
fields) or XLSX (its first sheet). Every cell is read as text, stripped; the first row is the
header. Rows are numbered as the user sees them: the header is row 1."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

XLSX_MAGIC = b"PK\x03\x04"


class UnreadableFile(ValueError):
    """The file cannot be read as a table; the message says where."""


@dataclass(frozen=True)
class Table:
    header: list[str]
    #: (row number, cells) of every row after the header that is not entirely blank
    rows: Iterator[tuple[int, list[str]]]


def is_xlsx(content: bytes, file_name: str = "") -> bool:
    return content.startswith(XLSX_MAGIC) or file_name.lower().endswith(".xlsx")


def decode(content: bytes) -> str:
    """The text of a UTF-8 file (a BOM is dropped); undecodable bytes name their line."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        raise UnreadableFile(
            f"Line {line} is not valid UTF-8 (byte {error.start + 1}); save the file as UTF-8."
        ) from None


def _delimiter(first_line: str) -> str:
    """Semicolon when the header has more semicolons than commas outside quotes."""
    outside, quoted = [], False
    for char in first_line:
        if char == '"':
            quoted = not quoted
        elif not quoted:
            outside.append(char)
    return ";" if outside.count(";") > outside.count(",") else ","


def _csv_rows(content: bytes) -> Iterator[list[str]]:
    """The rows of a CSV file, decoded as they are read: the whole text is never held (a
    50 MB file as one ``str``, then in a ``StringIO`` at 4 bytes a character, took 250 MB)."""
    decode(content)  # every byte decodes, or the error names its line; the text is dropped
    first_line = content.split(b"\n", 1)[0].decode("utf-8-sig")
    lines = io.TextIOWrapper(io.BytesIO(content), encoding="utf-8-sig", newline="")
    reader = csv.reader(lines, delimiter=_delimiter(first_line))
    try:
        for cells in reader:
            yield [cell.strip() for cell in cells]
    except csv.Error as error:
        raise UnreadableFile(f"Line {reader.line_num}: {error}.") from None


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        # A spreadsheet number: its shortest exact decimal spelling (19.99, not 19.989999…).
        return format(Decimal(repr(value)).normalize(), "f") if value == value else str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _xlsx_rows(content: bytes) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds on a damaged file
        raise UnreadableFile(f"Not a readable XLSX file ({error.__class__.__name__}).") from None
    try:
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield [_cell_text(value) for value in values]
    finally:
        workbook.close()


def read_table(content: bytes, file_name: str = "") -> Table:
    """The header and the rows of ``content``. Raises ``UnreadableFile`` for an empty file, a
    file without a header, or bytes that are not UTF-8 (CSV)."""
    if not content.strip():
        raise UnreadableFile("The file is empty.")
    cells = _xlsx_rows(content) if is_xlsx(content, file_name) else _csv_rows(content)
    numbered = enumerate(cells, start=1)
    for _, header in numbered:
        # Trailing empty header cells (a spreadsheet's formatted but empty columns) go.
        while header and not header[-1]:
            header.pop()
        if header:
            break
    else:
        raise UnreadableFile("The file has no header row.")

    def rows() -> Iterator[tuple[int, list[str]]]:
        for number, row in numbered:
            if any(row):
                yield number, row

    return Table([name.strip() for name in header], rows())
