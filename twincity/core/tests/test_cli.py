"""The `twincity` console script dispatches to the pure tools (no Django is needed to run them)."""

import subprocess
import sys

from twincity import cli


def test_workdays_add_counts_from_the_day_after_across_the_national_day_holiday(capsys):
    # 2025-09-30 (Tue); 10.1–10.8 are holidays; 10.9 Thu, 10.10 Fri, 10.11 (Sat) is a make-up working day.
    assert cli.main(["workdays", "add", "--from", "2025-09-30", "--days", "3"]) == 0
    assert capsys.readouterr().out == "2025-10-11\n"


def test_workdays_between_counts_a_after_and_b_included(capsys):
    # 2026 Spring Festival: 2.15–2.23 off, 2.14 (Sat) and 2.28 (Sat) worked.
    assert cli.main(["workdays", "between", "--from", "2026-02-13", "--to", "2026-02-28"]) == 0
    assert capsys.readouterr().out == "6\n"  # 2.14, 2.24, 2.25, 2.26, 2.27, 2.28


def test_a_year_outside_the_calendar_exits_2_and_prints_nothing_on_stdout(capsys):
    assert cli.main(["workdays", "add", "--from", "2031-01-05", "--days", "1"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "does not cover 2031" in captured.err


def test_points_still_answers_and_an_unknown_tool_exits_2(capsys):
    assert cli.main(["points", "standards"]) == 0
    assert "srdi-2026" in capsys.readouterr().out
    assert cli.main(["nonsense"]) == 2
    assert "usage: twincity" in capsys.readouterr().err


def test_the_command_runs_without_django():
    code = ("import sys; from twincity import cli; rc = cli.main(['workdays', 'add', '--from', '2026-02-13', "
            "'--days', '1']); assert 'django' not in sys.modules, sorted(m for m in sys.modules if 'django' in m); "
            "sys.exit(rc)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "2026-02-14\n"  # a make-up working day (Saturday)
