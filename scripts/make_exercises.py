"""Generate the learner notebooks from the solution notebooks (the source of truth).

    python scripts/make_exercises.py           # strip outputs of notebooks/solutions/*, write notebooks/*
    python scripts/make_exercises.py --check   # change nothing; exit 1 if anything is out of date

In a solution notebook, a code cell tagged `solution` holds an exercise's answer. In the learner
copy (notebooks/NN_topic.ipynb) it keeps its leading comment lines and every top-level assignment
becomes a stub, `answer = ...  # your SQL here`; markdown cells tagged `solution` are left out.
tests/test_notebooks.py fails when the committed copies differ from what this script writes.
"""

from __future__ import annotations

import argparse
import sys

from ecom_tutorial.notebooks import sync_learner_copies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report what is out of date (exit 1 if anything is)")
    args = parser.parse_args(argv)
    reported = sync_learner_copies(check_only=args.check)
    for line in reported:
        print(("out of date: " if args.check else "updated: ") + line)
    if args.check and reported:
        return 1
    if not reported:
        print("All learner notebooks are up to date.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
