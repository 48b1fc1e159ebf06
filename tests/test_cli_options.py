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


def test_every_command_is_mapped_to_the_module_that_registers_it():
    import argparse
    import importlib

    from optdesk.cli import COMMAND_MODULES, COMMANDS

    registered = {}
    for name in COMMAND_MODULES:
        sub = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(name).register(sub)
        registered.update(dict.fromkeys(sub.choices, name))
    assert registered == COMMANDS


@pytest.mark.parametrize(("argv", "command"), [
    (["classify", "M"], "classify"),
    (["--db", "x.duckdb", "-vv", "classify", "M"], "classify"),
    (["--config=o.toml", "--verbose", "import", "contacts", "f.csv"], "import"),
    (["--data-group", "run", "status"], "status"),  # a value that happens to be a command
    (["--help"], None),
    (["clasify", "M"], None),
    ([], None),
])
def test_a_run_builds_the_parser_of_its_own_command(argv, command):
    from optdesk.cli import command_of

    assert command_of(argv) == command


def test_a_misspelt_command_still_lists_every_command(capsys):
    with pytest.raises(SystemExit):
        main(["clasify", "M"])
    err = capsys.readouterr().err
    assert "invalid choice: 'clasify'" in err and "undo-opt-out" in err and "serve" in err


def test_the_classify_command_imports_no_other_command_module():
    import subprocess
    import sys

    code = ("import sys; from optdesk.cli import _parser_for; "
            "_parser_for(['classify', 'M']); "
            "print(sorted(m for m in sys.modules if m.startswith(('duckdb', 'polars', 'optdesk.store', "
            "'optdesk.contact_exports', 'optdesk.engagement', 'optdesk.cli.store_cmds'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
