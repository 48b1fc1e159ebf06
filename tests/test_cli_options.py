"""The options every command takes work before and after the command's name, as users type them;
after it they win."""

import pytest

from optdesk.cli import build_parser, main


@pytest.mark.parametrize("argv", [
    ["--db", "{db}", "status"],
    ["status", "--db", "{db}"],
    ["--db", "elsewhere.duckdb", "status", "--db", "{db}"],
])
def test_db_option_before_or_after_the_command(tmp_path, capsys, argv):
    db = tmp_path / "missing.duckdb"
    assert main([a.format(db=db) for a in argv]) == 2
    err = capsys.readouterr().err
    assert f"no store at {db}" in err and "elsewhere" not in err


def test_every_command_takes_the_global_options():
    parser = build_parser()
    for argv in (["run", "--once", "--mailbox", "maildir:x", "--data-group", "g", "-v"],
                 ["import", "contacts", "f.csv", "--data-group", "g", "--config", "c.toml"],
                 ["rules", "check", "--db", "d.duckdb"]):
        args = parser.parse_args(argv)
        assert args.command == argv[0]
    args = parser.parse_args(["run", "--mailbox", "maildir:x", "--data-group", "g", "-v"])
    assert (args.mailbox, args.data_group_global, args.verbose) == ("maildir:x", "g", 1)
    args = parser.parse_args(["--mailbox", "maildir:y", "run"])
    assert (args.mailbox, args.data_group_global, args.verbose) == ("maildir:y", None, 0)
