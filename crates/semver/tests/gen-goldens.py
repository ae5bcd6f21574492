#!/usr/bin/env python3
"""Ask real Helm (v4.2.3 via helm-python-sdk) how Masterminds/semver v3 behaves.

Helm's Sprig exposes semver only through templates, so every question is a tiny chart:
`semverCompare "C" "V"` for constraint checks and `semver "V"` for version fields.
Writes tests/golden/compare.tsv (constraint, version, true/false or the error text),
tests/golden/versions.tsv (input, fields or the error text), increments.tsv (IncMajor,
IncMinor, IncPatch) and order.tsv (Compare, LessThan, GreaterThan, Equal of every pair). Run with the venv python that
`scripts/helm-venv` prints.
"""
import itertools
import os
import tempfile

import helm_python as helm

HERE = os.path.dirname(os.path.abspath(__file__))

VERSIONS = [
    "1", "1.2", "1.2.3", "v1.2.3", "V1.2.3", "01.2.3", "1.02.3", "1.2.03", "0.0.0", "0.0.1",
    "0.1.0", "0.1.5", "0.2.0", "1.0.0", "1.1.0", "1.2.0", "1.2.2", "1.2.4", "1.3.0", "1.4.5",
    "1.4.6", "1.5.0", "2.0.0", "2.1.0", "3.0.0", "10.0.0", "1.2.3-alpha", "1.2.3-alpha.1",
    "1.2.3-alpha.beta", "1.2.3-beta", "1.2.3-beta.2", "1.2.3-beta.11", "1.2.3-rc.1",
    "1.2.3+build.5", "1.2.3-rc.1+build", "1.2.0-0", "1.3.0-beta", "2.0.0-alpha", "0.0.1-rc",
    "1.2.3-01", "1.2.3-a.01", "1.2.3-", "1.2.3+", "1.2.3.4", "a.b.c", "", "v", "1.x", "1.*",
    "1.2.3-alpha..1", "1.2.3-al_pha", "1.2.3+meta_x", "v1", "v1.2-beta.1+m", " 1.2.3",
    "1.2.3 ", "99999999999999999999.0.0", "1.2.3-0A.is.legal", "1.2.3-x-y-z.--",
    "1.0.0+20130313144700", "1.2-rc", "1-beta",
]

CONSTRAINTS = [
    "1.2.3", "=1.2.3", "= 1.2.3", "==1.2.3", "v1.2.3", "!=1.2.3", ">1.2.3", "<1.2.3", ">=1.2.3",
    "<=1.2.3", "=<1.2.3", "=>1.2.3", ">1.2", ">=1.2", "<1.2", "<=1.2", ">1", "<2", "<=1",
    "~1.2.3", "~1.2", "~1", "~0", "~0.1", "~>1.2.3", "~>1.2", "~ 1.2", "^1.2.3", "^1.2", "^1",
    "^0.2.3", "^0.0.3", "^0.0", "^0", "^0.1", "^1.2.x", "^1.x", "^0.x", "~1.x", "~1.2.x",
    "1.x", "1.2.x", "1.X", "1.*", "*", "x", "X", "", "1.2.*", "*.*.*", ">1.x", ">=1.x",
    "<1.x", "<=1.x", ">1.2.x", "<=1.2.x", "!=1.x", "!=1.2.x", "=1.x", "1.2 - 1.4.5",
    "1.2.3 - 1.4", "1 - 2", "1.2.x - 1.4.x", "1.2-1.4", ">=1.2, <2", ">=1.2 <2",
    ">=1.2,<2", ">= 1.2, < 2", ">1.0 <1.4 || >2", "<1 || >=2", "1.2.3 || 1.4.5",
    ">=1.2.3-alpha", ">1.2.3-alpha", "<1.2.3-beta", "~1.2.3-alpha", "^1.2.3-alpha",
    ">=1.2.3-0", ">1.2.0-0", ">=0.0.0-0", ">=1.2.3-beta.2", "=1.2.3-rc.1", "!=1.2.3-rc.1",
    "1.2.3-alpha - 1.4", "1.2.3-alpha || 2.x", ">=2.0.0-0", ">=1.0.0-0 <2.0.0-0",
    "^1.2.3-alpha.1", "~1.2.0-0", "1.2.3+build.5", ">1.2.3+build", ">=v1.2", "~v1.2",
    "^v1.2", "abc", ">=a", "1.2.3.4", ">1.2.3 abc", "||", ">1 ||", "|| >1", ",", ">1,,<2",
    "> 1.2", ">  1.2", "  >1.2  ", "=", ">", "~", "^", "1.2.3 - ", "- 1.2",
    ">1.2.3 || <1.2.3", "!=1.2.3, !=1.2.4", "~0.0.1", "^0.0.1", "^0.1.0", "<=0.1",
    ">=1.2.3 <=1.2.3", "<0.0.0", "<1.0.0-0", "01.2.3", ">=01.2", "1.2.3-01", "~>1",
    ">1.2.3-alpha <1.2.3", "1.2.3-alpha.beta", "x.x", "1.x.x", "1.x.3", "*.2",
]


def render_lines(lines):
    """Render one template whose lines are `lines`; return the list of output lines."""
    with tempfile.TemporaryDirectory() as root:
        chart = os.path.join(root, "c")
        os.makedirs(os.path.join(chart, "templates"))
        with open(os.path.join(chart, "Chart.yaml"), "w") as f:
            f.write("apiVersion: v2\nname: c\nversion: 0.1.0\n")
        with open(os.path.join(chart, "templates", "t.yaml"), "w") as f:
            f.write("".join(line + "\n" for line in lines))
        out = helm.Chart.load(chart).render({}, name="r", namespace="d")
        return out["c/templates/t.yaml"].split("\n")[:-1]


def quote(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def error_text(err):
    # Keep only what Sprig said, not Helm's template-position prefix.
    text = str(err)
    marker = "error calling semverCompare: "
    if marker in text:
        return text.split(marker, 1)[1]
    marker = "error calling semver: "
    if marker in text:
        return text.split(marker, 1)[1]
    return text


def probe(line):
    try:
        return True, render_lines([line])[0]
    except helm.HelmError as err:
        return False, error_text(err)


def main():
    golden = os.path.join(HERE, "golden")
    fields = '{{ $v := semver %s }}{{ $v.Major }}\t{{ $v.Minor }}\t{{ $v.Patch }}\t{{ $v.Prerelease }}\t{{ $v.Metadata }}\t{{ $v.Original }}\t{{ $v.String }}'
    with open(os.path.join(golden, "versions.tsv"), "w") as out:
        for version in VERSIONS:
            ok, text = probe(fields % quote(version))
            out.write(f"{version}\t{'ok' if ok else 'error'}\t{text}\n")

    # Sprig parses the constraint first, then the version, so each error names the first bad one.
    good_versions = [v for v in VERSIONS if probe(f"{{{{ semverCompare \"*\" {quote(v)} }}}}")[0]]
    good_constraints = []
    rows = []
    for constraint in CONSTRAINTS:
        ok, text = probe(f"{{{{ semverCompare {quote(constraint)} \"1.0.0\" }}}}")
        if ok:
            good_constraints.append(constraint)
        else:
            rows.append((constraint, "1.0.0", "error", text))
    pairs = list(itertools.product(good_constraints, good_versions))
    results = render_lines(
        [f"{{{{ semverCompare {quote(c)} {quote(v)} }}}}" for c, v in pairs])
    rows.extend((c, v, "ok", r) for (c, v), r in zip(pairs, results))
    for version in VERSIONS:
        if version not in good_versions:
            ok, text = probe(f"{{{{ semverCompare \"*\" {quote(version)} }}}}")
            rows.append(("*", version, "ok" if ok else "error", text))
    with open(os.path.join(golden, "compare.tsv"), "w") as out:
        for row in rows:
            out.write("\t".join(row) + "\n")

    # Methods of the semver object: increments, and Compare/LessThan/Equal between versions.
    incs = [render_lines([
        f"{{{{ $v := semver {quote(v)} }}}}{{{{ $v.IncMajor }}}}\t{{{{ $v.IncMinor }}}}\t{{{{ $v.IncPatch }}}}"
    ])[0] for v in good_versions]
    with open(os.path.join(golden, "increments.tsv"), "w") as out:
        for version, line in zip(good_versions, incs):
            out.write(f"{version}\t{line}\n")
    pairs = list(itertools.product(good_versions, good_versions))
    lines = render_lines([
        f"{{{{ $a := semver {quote(a)} }}}}{{{{ $b := semver {quote(b)} }}}}"
        "{{ $a.Compare $b }}\t{{ $a.LessThan $b }}\t{{ $a.GreaterThan $b }}\t{{ $a.Equal $b }}"
        for a, b in pairs])
    with open(os.path.join(golden, "order.tsv"), "w") as out:
        for (a, b), line in zip(pairs, lines):
            out.write(f"{a}\t{b}\t{line}\n")


if __name__ == "__main__":
    main()
