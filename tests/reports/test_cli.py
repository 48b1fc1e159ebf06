"""`optdesk report` end to end: a demo store on disk, the files it writes, errors at the edge."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import polars as pl
import time_machine

from optdesk.cli import main

from . import expected, gen


def test_report_command_on_generated_store(tmp_path, capsys):
    from optdesk.store import Store

    rows = gen.generate(11)
    db = tmp_path / "gen.duckdb"
    gen.load(Store(db), rows)
    last_day = (gen.END - dt.timedelta(days=1)).date()
    code = main(["--db", str(db), "report", "--data-group", gen.G, "--since",
                 gen.START.date().isoformat(), "--until", last_day.isoformat(),
                 "--out", str(tmp_path / "out"), "--trend-periods", "4"])
    assert code == 0
    out = capsys.readouterr().out
    want = expected.summary(rows, gen.G, gen.START, gen.END)
    assert f"{want['new_opt_outs']:,} new opt-outs" in out
    folder = next((tmp_path / "out").iterdir())
    lists = pl.read_csv(next(folder.glob("alpha_20261116-20261122_lists.csv")))
    exp = expected.lists(rows, gen.G, gen.START, gen.END)
    assert dict(zip(lists["list_id"], lists["new_opt_outs"], strict=True)) == {
        k: v["new_opt_outs"] for k, v in exp.items()}
    assert pl.read_parquet(next(folder.glob("*[0-9]_trend.parquet"))).height == 4
    assert len(list(folder.glob("*_report.html"))) == 1


def test_default_period_and_folder_under_a_frozen_clock(tmp_path, capsys):
    db = tmp_path / "demo.duckdb"
    with time_machine.travel(dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC), tick=False):
        assert main(["--db", str(db), "init", "--demo", "--contacts", "500"]) == 0
        assert main(["--db", str(db), "report", "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert "2026-11-23 – 2026-11-29" in out
    assert (tmp_path / "r" / "2026-11-30" / "demo_20261123-20261129_report.html").exists()


def test_unknown_group_and_bad_period(tmp_path, capsys):
    db = tmp_path / "demo.duckdb"
    main(["--db", str(db), "init", "--demo", "--contacts", "100"])
    assert main(["--db", str(db), "report", "--data-group", "nope", "--out", str(tmp_path)]) == 2
    assert "no data group 'nope'" in capsys.readouterr().err
    assert main(["--db", str(db), "report", "--since", "2026-05-02", "--until", "2026-05-01",
                 "--out", str(tmp_path)]) == 2
    assert "before it starts" in capsys.readouterr().err


def test_console_script_help():
    done = subprocess.run([sys.executable, "-m", "optdesk", "report", "--help"],
                          capture_output=True, text=True, check=True)
    assert "--since" in done.stdout and "--until" in done.stdout and "--out" in done.stdout
