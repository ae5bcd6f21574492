#!/usr/bin/env python3
"""Repository goldens from real Helm (v4.2.3 via helm-python-sdk): `helm package` then
`helm repo index` (plain, with --url, and with --merge) over a few small charts.

Writes tests/repo-golden/: the packaged charts (charts/*.tgz), the index files Helm made
(index-*.yaml), the chart sources (src/), the merge input, and loading/loaded.tsv: how Helm loads the hand-written
loading/index.yaml served over HTTP (invalid entries skipped, versions sorted). `created` and `generated` are times of the run; tests
compare everything else. index-merge.json is the merge case with --json.
Run: scripts/gen-repo-goldens.py [--json-only] (uses scripts/helm-venv).
"""
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if "helm_python" not in sys.modules and os.environ.get("RUDDER_IN_VENV") != "1":
    python = subprocess.check_output([os.path.join(ROOT, "scripts", "helm-venv")], text=True).strip()
    os.environ["RUDDER_IN_VENV"] = "1"
    os.execv(python, [python, __file__] + sys.argv[1:])

import helm_python as helm  # noqa: E402

OUT = os.path.join(ROOT, "tests", "repo-golden")

CHARTS = {
    "alpine": [
        ("0.1.0", "apiVersion: v2\nname: alpine\nversion: 0.1.0\nappVersion: \"1.2.3\"\n"
         "description: Deploy a basic Alpine Linux pod\nkeywords: [linux, alpine, small]\n"
         "home: https://example.com/alpine\nsources: [https://example.com/src]\n"
         "maintainers:\n- name: A Person\n  email: a@example.com\n"),
        ("0.2.0-rc.1", None),
        ("0.2.0", None),
        ("0.10.0", None),
    ],
    "nginx": [
        ("1.0.0", "apiVersion: v2\nname: nginx\nversion: 1.0.0\nappVersion: \"1.25\"\n"
         "description: A web server, with a description long enough to be cut by the table at fifty columns\n"
         "type: application\nkubeVersion: \">=1.20.0-0\"\ndeprecated: false\n"
         "annotations:\n  category: web\n"),
        ("1.1.0", None),
    ],
    "lib": [
        ("2.0.0", "apiVersion: v2\nname: lib\nversion: 2.0.0\ntype: library\n"
         "description: Helpers\nicon: https://example.com/icon.png\n"),
    ],
}


def make_chart(root, name, text):
    chart = os.path.join(root, name)
    os.makedirs(os.path.join(chart, "templates"), exist_ok=True)
    with open(os.path.join(chart, "Chart.yaml"), "w") as f:
        f.write(text)
    with open(os.path.join(chart, "values.yaml"), "w") as f:
        f.write("replicas: 1\n")
    if "type: library" not in text:
        with open(os.path.join(chart, "templates", "cm.yaml"), "w") as f:
            f.write("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n")
    return chart


def loading_golden():
    """How Helm loads a served index with invalid entries: loading/index.yaml (hand-written
    input, kept) to loading/loaded.tsv (chart key, then each kept name@version in order)."""
    import functools
    import http.server
    import threading

    folder = os.path.join(OUT, "loading")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=folder)
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        loaded = helm.repo_index(f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
    with open(os.path.join(folder, "loaded.tsv"), "w") as out:
        for chart in sorted(loaded["entries"]):
            kept = [f"{v.get('name', '')}@{v.get('version', '')}" for v in loaded["entries"][chart]]
            out.write("\t".join([chart] + kept) + "\n")


def main():
    for name in os.listdir(OUT) if os.path.isdir(OUT) else []:
        if name != "loading":
            path = os.path.join(OUT, name)
            shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
    loading_golden()
    charts_dir = os.path.join(OUT, "charts")
    os.makedirs(charts_dir)
    # Chart sources are kept (src/) so packaging can be compared with Helm's archives.
    work = os.path.join(OUT, "src")
    if True:
        for name, versions in CHARTS.items():
            base = versions[0][1]
            chart = make_chart(work, name, base)
            for version, _ in versions:
                helm.package(chart, destination=charts_dir, version=version)
        # A stale index to merge: one version Helm no longer has on disk, one it has.
        merge_from = os.path.join(OUT, "merge-from.yaml")
        with open(merge_from, "w") as f:
            f.write(
                "apiVersion: v1\ngenerated: \"2020-01-01T00:00:00Z\"\nentries:\n"
                "  alpine:\n  - name: alpine\n    version: 0.0.9\n    apiVersion: v2\n"
                "    urls: [https://old.example.com/alpine-0.0.9.tgz]\n"
                "    created: \"2020-01-01T00:00:00Z\"\n    digest: abc\n"
                "  old:\n  - name: old\n    version: 1.0.0\n    apiVersion: v1\n"
                "    description: Gone\n    urls: [old-1.0.0.tgz]\n"
                "    created: \"2019-05-06T07:08:09.123Z\"\n"
                "  nginx:\n  - name: nginx\n    version: 1.0.0\n    urls: [stale.tgz]\n")
        for label, kwargs in [
            ("plain", {}),
            ("url", {"base_url": "https://charts.example.com/stable"}),
            ("merge", {"base_url": "https://charts.example.com/stable", "merge": merge_from}),
        ]:
            helm.repo_index_generate(charts_dir, **kwargs)
            shutil.move(os.path.join(charts_dir, "index.yaml"),
                        os.path.join(OUT, f"index-{label}.yaml"))



def json_golden():
    """`helm repo index --json --merge` over the packaged charts: index-merge.json. The SDK
    writes Helm's JSON (IndexFile.WriteJSONFile) as index.json beside index.yaml; the helm CLI
    writes the same bytes to index.yaml (pkg/cmd/repo_index.go, writeIndexFile)."""
    import tempfile
    with tempfile.TemporaryDirectory() as work:
        charts = os.path.join(work, "charts")
        shutil.copytree(os.path.join(OUT, "charts"), charts)
        helm.repo_index_generate(charts, base_url="https://charts.example.com/stable",
                                 merge=os.path.join(OUT, "merge-from.yaml"), json_index=True)
        shutil.copy(os.path.join(charts, "index.json"), os.path.join(OUT, "index-merge.json"))


if __name__ == "__main__":
    # `--json-only` adds the JSON golden without remaking the others.
    if sys.argv[1:] != ["--json-only"]:
        main()
    json_golden()
