"""Reading an engagement export into the store's rows: one row per event (``email, event,
timestamp`` and optional user agent, URL, machine-open flag) or one row per recipient with
counts (``email, opens, clicks`` and the last activity), by preset and ``--map``.

Every row is checked first; a bad one is named by row and column and nothing is applied. Each
row gets a ``row_key`` that is the same when the same export is read again, so a re-import
replaces instead of adding (per event: event, address, time, URL and its rank among identical
rows; per recipient: event and address, the count replaced). Opens fetched by a mail client's
privacy proxy are flagged ``prefetch`` (prefetch.yaml).
"""

from __future__ import annotations

import pathlib

import polars as pl

from optdesk import tabular
from optdesk.engagement.presets import EVENTS, Preset, prefetch_rule, timestamp_formats
from optdesk.errors import ImportFailed

ROW_COLUMNS = ("row_key", "email", "event", "occurred_at", "n", "url", "user_agent", "prefetch")


def read_engagement(path: str | pathlib.Path, preset: Preset) -> tuple[pl.DataFrame, int]:
    """(rows in the store's shape, the number of rows skipped by the preset's ``skip``)."""
    source = str(path)
    raw = tabular.read_table(path)
    fields = {f: c for c, f in preset.columns.items() if c in raw.columns}
    if "email" not in fields:
        raise ImportFailed(f"{source}: no address column: the preset {preset.name!r} reads "
                           f"{_column_of(preset, 'email')!r}; add --map COLUMN=email")
    df = raw.with_row_index("_row", offset=1).select(
        "_row", *[pl.col(c).alias(f) for f, c in fields.items()])
    df = df.with_columns(pl.col("email").str.to_lowercase())
    _check(df, source, fields, "email", pl.col("email").is_null() | (pl.col("email") == ""),
           "no address")
    if "timestamp" in fields:
        df = df.with_columns(_parse_time(preset.timestamp).alias("occurred_at"))
        _check(df, source, fields, "timestamp", pl.col("occurred_at").is_null()
               & pl.col("timestamp").is_not_null() & (pl.col("timestamp") != ""),
               "not a time" + (" (seconds since 1970)" if preset.timestamp == "unix" else ""))
    else:
        df = df.with_columns(pl.lit(None, pl.Datetime("us")).alias("occurred_at"))
    if "event" in fields:
        return _per_event(df, source, fields, preset)
    if "opens" in fields or "clicks" in fields:
        return _per_recipient(df, source, fields), 0
    raise ImportFailed(f"{source}: no event column ({_column_of(preset, 'event')!r}) and no "
                       "opens/clicks columns; add --map COLUMN=event")


def _column_of(preset: Preset, target: str) -> str:
    return next((c for c, f in preset.columns.items() if f == target), target)


def _check(df: pl.DataFrame, source: str, fields: dict, field: str, bad: pl.Expr,
           reason: str) -> None:
    hit = df.filter(bad).head(1)
    if hit.height:
        raise ImportFailed(f"{source}: row {hit['_row'][0]}, column {fields[field]}: {reason} "
                           f"(got {hit[field][0]!r})")


def _parse_time(kind: str) -> pl.Expr:
    text = pl.col("timestamp")
    if kind == "unix":
        seconds = text.cast(pl.Float64, strict=False)
        return (seconds * 1_000_000).cast(pl.Int64, strict=False).cast(pl.Datetime("us"))
    text = text.str.replace(r"Z$", "+00:00")
    tried = []
    for fmt in timestamp_formats():
        if "%:z" in fmt or "%z" in fmt:
            tried.append(text.str.to_datetime(fmt, strict=False, time_unit="us", time_zone="UTC")
                         .dt.replace_time_zone(None))
        else:
            tried.append(text.str.to_datetime(fmt, strict=False, time_unit="us"))
    return pl.coalesce(tried)


def _per_event(df: pl.DataFrame, source: str, fields: dict, preset: Preset):
    value = pl.col("event").str.to_lowercase().str.strip_chars()
    skipped = df.filter(value.is_in(list(preset.skip))).height
    df = df.filter(~value.is_in(list(preset.skip)))
    mapping = preset.events or {e: e for e in EVENTS}
    df = df.with_columns(value.replace_strict(mapping, default=None).alias("_event"))
    _check(df, source, fields, "event", pl.col("_event").is_null(),
           f"not an event this preset knows ({', '.join(mapping)})")
    for optional in ("url", "user_agent", "machine_open"):
        if optional not in df.columns:
            df = df.with_columns(pl.lit(None, pl.String).alias(optional))
    df = df.with_columns(pl.col("_event").alias("event"), pl.lit(1, pl.Int32).alias("n"))
    df = _flag_prefetch(df)
    key = pl.concat_str([pl.col("event"), pl.col("email"),
                         pl.col("occurred_at").dt.to_string("%Y-%m-%dT%H:%M:%S%.6f")
                         .fill_null(""), pl.col("url").fill_null("")], separator="\x1f")
    df = df.with_columns(key.alias("_k"))
    df = df.with_columns(pl.concat_str([
        pl.col("_k"), pl.col("_row").rank("ordinal").over("_k").cast(pl.String)],
        separator="\x1f").alias("row_key"))
    return df.select(ROW_COLUMNS), skipped


def _flag_prefetch(df: pl.DataFrame) -> pl.DataFrame:
    rule = prefetch_rule()
    machine = pl.col("machine_open").str.to_lowercase().is_in(["true", "1", "yes"]).fill_null(False)
    proxy = pl.lit(False)
    for pattern in rule.user_agents:
        proxy = proxy | pl.col("user_agent").str.contains(pattern.pattern).fill_null(False)
    delivered = (df.filter(pl.col("event") == "delivered").group_by("email")
                 .agg(pl.col("occurred_at").min().alias("_delivered")))
    df = df.join(delivered, on="email", how="left")
    soon = ((pl.col("occurred_at") - pl.col("_delivered")).dt.total_microseconds()
            .is_between(0, rule.window_seconds * 1_000_000)).fill_null(False)
    return df.with_columns(((pl.col("event") == "open") & (machine | (proxy & soon)))
                           .alias("prefetch")).drop("_delivered").sort("_row")


def _per_recipient(df: pl.DataFrame, source: str, fields: dict) -> pl.DataFrame:
    parts = []
    for field, event in (("opens", "open"), ("clicks", "click")):
        if field not in df.columns:
            continue
        df = df.with_columns(pl.col(field).cast(pl.Int64, strict=False).alias(f"_{field}"))
        _check(df, source, fields, field, (pl.col(f"_{field}").is_null() | (pl.col(f"_{field}") < 0))
               & pl.col(field).is_not_null() & (pl.col(field) != ""), "must be a whole number")
        part = df.filter(pl.col(f"_{field}") > 0).select(
            pl.concat_str([pl.lit(event), pl.col("email"), pl.lit("total")],
                          separator="\x1f").alias("row_key"),
            "email", pl.lit(event).alias("event"), "occurred_at",
            pl.col(f"_{field}").cast(pl.Int32).alias("n"), pl.lit(None, pl.String).alias("url"),
            pl.lit(None, pl.String).alias("user_agent"), pl.lit(False).alias("prefetch"))
        parts.append(part)
    out = pl.concat(parts)
    return out.unique("row_key", keep="last", maintain_order=True)
