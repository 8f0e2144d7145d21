"""The `twincity` command: the platform's pure tools, which run without Django or a database.

    twincity points …     the points engine: standards, scoring a facts file (points_engine.cli)
    twincity workdays …   the official working-day calendar the clocks use (twincity.core.workdays)

Exit codes are the tools' own: 0 success, 2 bad input (including a date outside the calendar's years).
"""

import sys
from collections.abc import Sequence

USAGE = """usage: twincity {points,workdays} ...

  points     积分引擎 / the points engine: `twincity points standards`, `twincity points score …`
  workdays   官方工作日历 / official working days: `twincity workdays add --from DATE --days N`,
             `twincity workdays between --from A --to B`
"""


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "workdays":
        from twincity.core import workdays

        return workdays.main(args[1:])
    if args and args[0] == "points":
        from points_engine import cli

        return cli.main(args)
    stream = sys.stdout if args[:1] in (["-h"], ["--help"]) else sys.stderr
    print(USAGE, end="", file=stream)
    return 0 if stream is sys.stdout else 2


if __name__ == "__main__":
    sys.exit(main())
