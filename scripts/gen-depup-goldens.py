#!/usr/bin/env python3
"""`helm dependency update` / `build` goldens from real Helm (v4.2.3 via helm-python-sdk).

Writes tests/depup-golden/:
- repo/: a chart repository (archives Helm packaged from repo-src/, and the index.yaml
  `helm repo index` wrote for them), served by this script, and by the tests, at
  http://127.0.0.1:PORT/charts (a fixed port, because the repository URL is part of the
  Chart.lock digest);
- cases/<case>/: each parent chart as it was before the run (Chart.yaml, charts/...);
- cases/<case>/expected.lock: the Chart.lock Helm wrote (its `generated` time is of the
  run; tests compare everything else), expected.charts: the files in charts/ afterwards,
  or expected.error: the error Helm returned; for `app`, also `dependency build` from that
  lock into an empty charts/ (expected-build.charts) and its refusal once Chart.yaml
  changed (expected-outofsync.error).
Run: scripts/gen-depup-goldens.py (uses scripts/helm-venv).
"""
import functools
import http.server
import os
import shutil
import subprocess
import sys
import tempfile
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if "helm_python" not in sys.modules and os.environ.get("RUDDER_IN_VENV") != "1":
    python = subprocess.check_output([os.path.join(ROOT, "scripts", "helm-venv")], text=True).strip()
    os.environ["RUDDER_IN_VENV"] = "1"
    os.execv(python, [python, __file__] + sys.argv[1:])

import helm_python as helm  # noqa: E402

OUT = os.path.join(ROOT, "tests", "depup-golden")
# Keep in step with crates/rudder/tests/dependency_update.rs.
PORT = 18279
URL = f"http://127.0.0.1:{PORT}/charts"

# Charts published in the repository: name -> versions.
REPO_CHARTS = {
    "web": ["1.0.0", "1.1.0", "1.2.0-rc.1", "2.0.0"],
    "db": ["0.1.0", "0.1.5", "0.2.0"],
}


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def repo_chart_source(name):
    src = os.path.join(OUT, "repo-src", name)
    write(os.path.join(src, "Chart.yaml"),
          f"apiVersion: v2\nname: {name}\nversion: 0.0.0\ndescription: {name} for tests\n")
    write(os.path.join(src, "values.yaml"), "port: 80\nexports:\n  data:\n    level: 1\n")
    write(os.path.join(src, "templates", "svc.yaml"),
          "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}-"
          + name + "\n  labels:\n    chart: {{ .Chart.Name }}-{{ .Chart.Version }}\n"
          "spec:\n  ports:\n  - port: {{ .Values.port }}\n")
    return src


# Parent charts: name -> (Chart.yaml, extra files, files pre-seeded in charts/).
# helm-python-sdk registers each repository URL of Chart.yaml in a private
# repositories.yaml before updating, so these are runs with the repository configured.
CASES = {
    # URL repositories, a constraint, an alias with condition/tags/import-values, a
    # file:// dependency, and an outdated archive in charts/ that Helm deletes.
    "app": (
        "apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n"
        f"- name: web\n  version: ^1.0.0\n  repository: {URL}\n"
        f"- name: db\n  version: ~0.1.0\n  repository: {URL}\n  alias: store\n"
        "  condition: store.enabled\n  tags: [backend]\n  import-values:\n  - data\n"
        "  - child: exports.data\n    parent: imported\n"
        "- name: local\n  version: \">=0.1.0\"\n  repository: file://../local\n",
        {"../local/Chart.yaml": "apiVersion: v2\nname: local\nversion: 0.3.0\n",
         "../local/templates/cm.yaml":
             "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: local\n"},
        {"web-1.0.0.tgz": ("web", "1.0.0")},
    ),
    # Pre-releases are only taken when the constraint asks for them.
    "devel": (
        "apiVersion: v2\nname: devel\nversion: 0.1.0\ndependencies:\n"
        f"- name: web\n  version: \">=1.2.0-0 <2.0.0\"\n  repository: {URL}\n",
        {}, {},
    ),
    # No version satisfies the constraint.
    "nomatch": (
        "apiVersion: v2\nname: nomatch\nversion: 0.1.0\ndependencies:\n"
        f"- name: web\n  version: ^9.0.0\n  repository: {URL}\n",
        {}, {},
    ),
    # A chart the repository does not have.
    "nochart": (
        "apiVersion: v2\nname: nochart\nversion: 0.1.0\ndependencies:\n"
        f"- name: cache\n  version: 1.0.0\n  repository: {URL}\n",
        {}, {},
    ),
    # A repository given by name instead of URL or alias.
    "notaurl": (
        "apiVersion: v2\nname: notaurl\nversion: 0.1.0\ndependencies:\n"
        "- name: web\n  version: 1.0.0\n  repository: stable\n",
        {}, {},
    ),
}


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(folder):
    handler = functools.partial(QuietHandler, directory=folder)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def build_goldens(chart, case_dir):
    """`dependency build` from the lock just written: charts/ again from scratch
    (expected-build.charts), then the refusal once Chart.yaml no longer matches the lock
    (expected-outofsync.error)."""
    shutil.rmtree(os.path.join(chart, "charts"))
    helm.dependency_build(chart)
    listing = sorted(os.listdir(os.path.join(chart, "charts")))
    write(os.path.join(case_dir, "expected-build.charts"), "".join(f + "\n" for f in listing))
    chart_yaml = os.path.join(chart, "Chart.yaml")
    with open(chart_yaml) as f:
        text = f.read()
    write(chart_yaml, text.replace("version: ^1.0.0", "version: ^1.1.0"))
    try:
        helm.dependency_build(chart)
    except helm.HelmError as e:
        write(os.path.join(case_dir, "expected-outofsync.error"), str(e) + "\n")


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    repo = os.path.join(OUT, "repo")
    os.makedirs(repo)
    for name, versions in REPO_CHARTS.items():
        src = repo_chart_source(name)
        for version in versions:
            helm.package(src, destination=repo, version=version)
    helm.repo_index_generate(repo)
    served = tempfile.mkdtemp()
    os.symlink(repo, os.path.join(served, "charts"))
    server = serve(served)
    try:
        for case, (chart_yaml, extra, seeded) in CASES.items():
            chart = os.path.join(OUT, "cases", case, case)
            write(os.path.join(chart, "Chart.yaml"), chart_yaml)
            for rel, text in extra.items():
                write(os.path.normpath(os.path.join(chart, rel)), text)
            for file_name, (name, version) in seeded.items():
                os.makedirs(os.path.join(chart, "charts"), exist_ok=True)
                shutil.copy(os.path.join(repo, f"{name}-{version}.tgz"),
                            os.path.join(chart, "charts", file_name))
            # Helm works on a copy so the checked-in case stays as it was before the run.
            work = tempfile.mkdtemp()
            shutil.copytree(os.path.join(OUT, "cases", case), work, dirs_exist_ok=True)
            case_dir = os.path.join(OUT, "cases", case)
            try:
                helm.dependency_update(os.path.join(work, case))
            except helm.HelmError as e:
                write(os.path.join(case_dir, "expected.error"), str(e) + "\n")
            else:
                shutil.copy(os.path.join(work, case, "Chart.lock"),
                            os.path.join(case_dir, "expected.lock"))
                listing = sorted(os.listdir(os.path.join(work, case, "charts")))
                write(os.path.join(case_dir, "expected.charts"), "".join(f + "\n" for f in listing))
                if case == "app":
                    build_goldens(os.path.join(work, case), case_dir)
            shutil.rmtree(work)
    finally:
        server.shutdown()
        shutil.rmtree(served)


if __name__ == "__main__":
    main()
