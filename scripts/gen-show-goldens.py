#!/usr/bin/env python3
"""Generates tests/show/golden/NAME.SUBCOMMAND.out (or .err) from tests/show/cases.yaml: what
`helm show SUBCOMMAND CHART` prints, computed with real Helm v4.2.3 (helm-python-sdk 0.2.2's
`show`, which runs Helm's action.Show; the helm CLI prints its result unchanged).

Each case is {name, chart} and runs every subcommand (all, chart, values, readme, crds) unless
`only` lists some. A chart argument that is not on disk is worded as the CLI's LocateChart words
it (the SDK has its own wording for that); every other error is Helm's own message. Before that,
the script rebuilds tests/show/charts/unsorted-0.1.0.tgz, an archive whose entries are not in
sorted order (Helm keeps an archive's order, so it decides which readme wins and CRD order).
Usage: scripts/gen-show-goldens.py [CASE-NAME ...]
"""
import importlib.util, io, json, os, subprocess, sys, tarfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
try:
    import helm_python as helm
    import yaml
except ImportError:
    py = subprocess.check_output([os.path.join(ROOT, "scripts", "helm-venv")], text=True).strip()
    os.execv(py, [py] + sys.argv)

# Shared with `helm template`'s generator: values merging and LocateChart's wording.
_spec = importlib.util.spec_from_file_location("gen_template_goldens", os.path.join(ROOT, "scripts", "gen-template-goldens.py"))
template_goldens = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(template_goldens)

SUBCOMMANDS = ["all", "chart", "values", "readme", "crds"]

# The archive's entries, in the order they are written.
UNSORTED_ENTRIES = [
    ("unsorted/Chart.yaml", "apiVersion: v2\nname: unsorted\nversion: 0.1.0\ndescription: entries out of order\n"),
    ("unsorted/readme.md", "readme.md comes first in the archive, so it is the readme\n"),
    ("unsorted/README.md", "README.md comes second\n"),
    ("unsorted/values.yaml", "z: last\na: first\n"),
    ("unsorted/crds/z-second.yaml", "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: zs.example.com\n"),
    ("unsorted/crds/a-third.yaml", "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: as.example.com\n"),
]


def write_unsorted_archive():
    """A reproducible .tgz (fixed times and owners) of UNSORTED_ENTRIES."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, text in UNSORTED_ENTRIES:
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 1700000000
            tar.addfile(info, io.BytesIO(data))
    import gzip
    with open(os.path.join(ROOT, "tests", "show", "charts", "unsorted-0.1.0.tgz"), "wb") as f:
        f.write(gzip.compress(raw.getvalue(), mtime=0))


def main():
    write_unsorted_archive()
    with open(os.path.join(ROOT, "tests", "show", "cases.yaml")) as f:
        cases = yaml.safe_load(f)
    wanted = set(sys.argv[1:])
    gold = os.path.join(ROOT, "tests", "show", "golden")
    os.makedirs(gold, exist_ok=True)
    for case in cases:
        if wanted and case["name"] not in wanted:
            continue
        for sub in case.get("only", SUBCOMMANDS):
            base = os.path.join(gold, "%s.%s" % (case["name"], sub))
            for ext in (".out", ".err"):
                if os.path.exists(base + ext):
                    os.remove(base + ext)
            try:
                text, ext = helm.show(template_goldens.locate_chart(case["chart"]), output_format=sub), ".out"
            except helm.HelmError as e:
                text, ext = "Error: %s\n" % e, ".err"
            with open(base + ext, "w", newline="") as f:
                f.write(text)
            print(os.path.relpath(base + ext, ROOT))


if __name__ == "__main__":
    main()
