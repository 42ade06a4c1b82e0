"""What guards.py and policy.py share: the label files and the table of verdicts.

A label names repository, commit, path, line, rule (or type/check) and a verdict
`true:reason` or `false:reason`.
"""
import csv


def read_labels(path):
    """The labels of a TSV file, keyed by their first five columns."""
    with open(path) as f:
        rows = csv.reader((l for l in f if not l.startswith("#")), delimiter="\t")
        return {tuple(row[:5]): row[5] for row in rows}


def print_table(heading, counts):
    """Per rule and severity, the findings labelled true, false and not labelled, and the
    precision of the labelled ones. `counts` maps (rule, severity, kind) to a count."""
    width = max([24] + [len(r) + 1 for r, _, _ in counts])
    print(f"{heading:{width}} {'severity':9} {'true':>5} {'false':>5} {'unlabelled':>10}  precision")
    for rule, severity in sorted({(r, s) for r, s, _ in counts}):
        t, f, u = (counts[(rule, severity, k)] for k in ("true", "false", "unlabelled"))
        precision = f"{t / (t + f):.2f}" if t + f else "-"
        print(f"{rule:{width}} {severity:9} {t:5} {f:5} {u:10}  {precision}")
