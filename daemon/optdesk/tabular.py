"""Reading the team's table files (CSV, XLSX/XLS/ODS, Parquet) as text columns.

Every value comes back as a string (or null), so that each import checks and converts its own
columns and can name a bad value by row and column. XLSX, XLS and ODS are read by calamine
(``fastexcel``, through polars), never by hand. A header that names a column twice is refused:
the reader would keep one and silently rename the other.
"""

from __future__ import annotations

import csv
import pathlib

import polars as pl

from optdesk.errors import ImportFailed

EXCEL = (".xlsx", ".xlsm", ".xls", ".ods")
PARQUET = (".parquet", ".pq")


def read_table(path: str | pathlib.Path) -> pl.DataFrame:
    """The file's rows with every column as text (surrounding spaces stripped)."""
    path = pathlib.Path(path)
    if not path.exists():
        raise ImportFailed(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix in PARQUET:
            df = pl.read_parquet(path)
            df = df.with_columns(pl.all().cast(pl.String))
        elif suffix in EXCEL:
            df = _read_excel(path)
        else:
            check_header(path, csv_header(path))
            df = pl.read_csv(path, infer_schema=False, encoding="utf8")
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ImportFailed(f"{path}: cannot be read: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - fastexcel raises its own types for a broken file
        if type(exc).__module__.split(".")[0] != "fastexcel":
            raise
        raise ImportFailed(f"{path}: cannot be read: {exc}") from exc
    return df.with_columns(pl.col(c).str.strip_chars() for c in df.columns)


def require(df: pl.DataFrame, columns: tuple[str, ...], source: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ImportFailed(f"{source}: missing column(s): {', '.join(missing)}")


def csv_header(path: pathlib.Path) -> list[str]:
    """The first row of a CSV file."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return next(csv.reader(fh), [])


def _read_excel(path: pathlib.Path) -> pl.DataFrame:
    """The first sheet, its first row the header, every cell as text."""
    raw = pl.read_excel(path, engine="calamine", has_header=False,
                        read_options={"dtypes": "string"})
    if raw.height == 0:
        return pl.DataFrame()
    header = [str(v) if v is not None else "" for v in raw.row(0)]
    check_header(path, header)
    return raw.slice(1).rename(dict(zip(raw.columns, header, strict=True)))


def check_header(path: pathlib.Path, header: list[str]) -> None:
    """ImportFailed when the header row names a column twice."""
    first: dict[str, int] = {}
    for number, name in enumerate(header, start=1):
        if name in first:
            raise ImportFailed(
                f"{path}: header row, column {number}: {name!r} is also column {first[name]}; "
                "name each column once")
        first[name] = number
