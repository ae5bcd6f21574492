#!/usr/bin/env python3
"""Generates tests/template/golden/NAME.out (or NAME.err) from tests/template/cases.yaml: what
`helm template` prints for each case, computed with real Helm v4.2.3 (helm-python-sdk 0.2.2).

The SDK has no `helm template` call, so this does what the command does: a client-only dry-run
install gives the release manifest (Helm's own sorting and framing); hooks, which the SDK's
result leaves out, are re-derived from an offline render of the same chart with Helm's
SortManifests rules; CRDs (--include-crds) come from the loaded chart; --is-upgrade renders
with IsUpgrade set; --show-only filters as template.go does. Errors that the SDK words
differently from the helm CLI (flag parsing, a chart path that does not exist, missing
dependencies) are worded here as the CLI's code paths word them (pkg/cli/values/options.go,
pkg/action LocateChart, pkg/cmd/install.go). Each case is {name, chart, release, namespace, args}; args are helm template flags among -f/--values, --set,
--set-string, --set-json, --set-file, --set-literal, --include-crds, --is-upgrade, --skip-tests,
--no-hooks, --show-only/-s. Usage: scripts/gen-template-goldens.py [CASE-NAME ...]
"""
import json, os, re, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
try:
    import helm_python as helm
    import yaml
except ImportError:
    py = subprocess.check_output([os.path.join(ROOT, "scripts", "helm-venv")], text=True).strip()
    os.execv(py, [py] + sys.argv)

INSTALL_ORDER = """PriorityClass Namespace NetworkPolicy ResourceQuota LimitRange PodSecurityPolicy
PodDisruptionBudget ServiceAccount Secret SecretList ConfigMap StorageClass PersistentVolume
PersistentVolumeClaim CustomResourceDefinition ClusterRole ClusterRoleList ClusterRoleBinding
ClusterRoleBindingList Role RoleList RoleBinding RoleBindingList Service DaemonSet Pod
ReplicationController ReplicaSet Deployment HorizontalPodAutoscaler StatefulSet Job CronJob
IngressClass Ingress APIService MutatingWebhookConfiguration ValidatingWebhookConfiguration""".split()
HOOK_EVENTS = {"pre-install", "post-install", "pre-delete", "post-delete", "pre-upgrade",
               "post-upgrade", "pre-rollback", "post-rollback", "test", "test-success"}
GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
SEP = re.compile(r"(?:^|[\t\n\f\r ]*\n)---[\t\n\f\r ]*")


def merge(dst, src):
    for k, v in src.items():
        if isinstance(v, dict) and isinstance(dst.get(k), dict):
            merge(dst[k], v)
        else:
            dst[k] = v
    return dst


def parse_args(args):
    o = {"values": [], "set": [], "set_string": [], "set_json": [], "set_file": [], "set_literal": [],
         "show_only": [], "include_crds": False, "is_upgrade": False, "skip_tests": False, "no_hooks": False}
    i = 0
    takes = {"-f": "values", "--values": "values", "--set": "set", "--set-string": "set_string",
             "--set-json": "set_json", "--set-file": "set_file", "--set-literal": "set_literal",
             "-s": "show_only", "--show-only": "show_only"}
    while i < len(args):
        a = args[i]
        if a in takes:
            o[takes[a]].append(args[i + 1]); i += 2
        elif a.lstrip("-").replace("-", "_") in o and isinstance(o[a.lstrip("-").replace("-", "_")], bool):
            o[a.lstrip("-").replace("-", "_")] = True; i += 1
        else:
            raise SystemExit("unsupported flag in case: %s" % a)
    return o


def wrap(prefix, fn, arg):
    """The helm CLI wraps the parse errors of each flag (pkg/cli/values/options.go MergeValues)."""
    try:
        return fn(arg)
    except helm.HelmError as e:
        raise helm.HelmError(prefix + str(e))


def user_values(o):
    """values.Options.MergeValues: -f files, --set-json, --set, --set-string, --set-file, --set-literal."""
    vals = {}
    for f in o["values"]:
        for part in f.split(","):
            with open(os.path.join(ROOT, part)) as fh:
                merge(vals, wrap("failed to parse %s: " % part, helm.values_from_yaml, fh.read()) or {})
    for s in o["set_json"]:
        merge(vals, wrap("failed parsing --set-json data %s: " % s, helm.parse_set_json, s))
    for s in o["set"]:
        merge(vals, wrap("failed parsing --set data: ", helm.parse_set_string, s))
    for s in o["set_string"]:
        merge(vals, wrap("failed parsing --set-string data: ", helm.parse_set_string_values, s))
    for s in o["set_file"]:
        merge(vals, wrap("failed parsing --set-file data: ", helm.parse_set_file, s))
    for s in o["set_literal"]:
        merge(vals, wrap("failed parsing --set-literal data: ", helm.parse_set_literal, s))
    return vals


def locate_chart(name):
    """What pkg/action LocateChart reports for a chart argument that is not on disk (no
    repositories are configured for these cases)."""
    if os.path.exists(os.path.join(ROOT, name)):
        return os.path.join(ROOT, name)
    if os.path.isabs(name) or name.startswith("."):
        raise helm.HelmError("path %s not found" % json.dumps(name))
    if "/" in name:
        raise helm.HelmError("repo %s not found" % name.split("/")[0])
    raise helm.HelmError("non-absolute URLs should be in form of repo_name/path_to_chart, got: %s" % name)


def check_dependencies(chart):
    """pkg/cmd/install.go: CheckDependencies, worded as runInstall words it."""
    loaded = {d.get("name") for d in (chart.dependencies or [])}
    missing = [d["name"] for d in (chart.metadata.get("dependencies") or []) if d["name"] not in loaded]
    if missing:
        raise helm.HelmError("an error occurred while checking for chart dependencies. You may need to run "
                             "'helm dependency build' to fetch missing dependencies: found in Chart.yaml, but "
                             "missing in charts/ directory: " + ", ".join(missing))


def split(body):
    return [d.lstrip(GO_SPACE) for d in SEP.split(body.lstrip(GO_SPACE)) if d.strip(GO_SPACE) != ""]


def hooks_of(rendered):
    """Helm's SortManifests, keeping only the hooks, in kind order."""
    hooks = []
    for path in sorted(rendered):
        body = rendered[path]
        if os.path.basename(path).startswith("_") or path.endswith("NOTES.txt") or not body.strip(GO_SPACE):
            continue
        for doc in split(body):
            head = yaml.load(doc, Loader=yaml.BaseLoader) if doc.strip() else None
            head = head if isinstance(head, dict) else {}
            meta = head.get("metadata") if isinstance(head.get("metadata"), dict) else {}
            ann = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
            if "helm.sh/hook" not in ann:
                continue
            events = [e.strip().lower() for e in str(ann["helm.sh/hook"]).split(",")]
            if all(e in HOOK_EVENTS for e in events):
                hooks.append((head.get("kind") or "", path, doc, events))
    order = {k: i for i, k in enumerate(INSTALL_ORDER)}
    return sorted(hooks, key=lambda h: (0, order[h[0]], "") if h[0] in order else (1, 0, h[0]))


def go_match(pattern, name):
    """Go's filepath.Match for the patterns the cases use (*, ?, [..])."""
    rx = ""
    for c in pattern:
        rx += {"*": "[^/]*", "?": "[^/]"}.get(c, re.escape(c))
    return re.fullmatch(rx, name) is not None


# Render through Chart.render and sort here, as for --is-upgrade, instead of a dry-run install:
# for charts whose aliased dependencies the SDK's install refuses (it checks aliases where
# Helm's CheckDependencies checks names). Set by scripts/corpus-diff.py --via-render.
VIA_RENDER = False


def render_case(case):
    o = parse_args(case.get("args", []))
    name, ns = case.get("release", "release-name"), case.get("namespace", "default")
    vals = user_values(o)
    chart_path = locate_chart(case["chart"])
    chart = helm.Chart.load(chart_path)
    try:
        if chart.metadata.get("type", "application") not in ("", "application"):
            raise helm.HelmError("%s charts are not installable" % chart.metadata["type"])
        check_dependencies(chart)
        crds = "".join("---\n# Source: %s\n%s\n" % (c["filename"], c["data"]) for c in chart.crds) if o["include_crds"] else ""
        rendered = chart.render(vals, name=name, namespace=ns, is_install=not o["is_upgrade"], is_upgrade=o["is_upgrade"])
        if o["is_upgrade"] or VIA_RENDER:
            generic = []
            order = {k: i for i, k in enumerate(INSTALL_ORDER)}
            for path in sorted(rendered):
                body = rendered[path]
                if os.path.basename(path).startswith("_") or path.endswith("NOTES.txt") or not body.strip(GO_SPACE):
                    continue
                for doc in split(body):
                    head = yaml.load(doc, Loader=yaml.BaseLoader) if doc.strip() else None
                    head = head if isinstance(head, dict) else {}
                    meta = head.get("metadata") if isinstance(head.get("metadata"), dict) else {}
                    ann = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
                    if "helm.sh/hook" not in ann:
                        generic.append((head.get("kind") or "", path, doc))
            generic.sort(key=lambda h: (0, order[h[0]], "") if h[0] in order else (1, 0, h[0]))
            manifest = crds + "".join("---\n# Source: %s\n%s\n" % (p, d) for _, p, d in generic)
        else:
            with helm.Config(namespace=ns, storage_driver="memory") as cfg:
                rel = cfg.install(chart, name, vals, dry_run="client", namespace=ns)
            manifest = crds + rel.get("manifest", "")
        out = manifest.strip(GO_SPACE) + "\n"
        if not o["no_hooks"]:
            for kind, path, doc, events in hooks_of(rendered):
                if o["skip_tests"] and "test" in events:
                    continue
                out += "---\n# Source: %s\n%s\n" % (path, doc)
    finally:
        chart.close()
    if o["show_only"]:
        docs = split(out)
        picked = []
        for f in o["show_only"]:
            found = False
            for d in docs:
                m = re.search(r"# Source: [^/]+/(.+)", d)
                if m and go_match(f, m.group(1)):
                    picked.append(d); found = True
            if not found:
                raise helm.HelmError("could not find template %s in chart" % f)
        out = "".join("---\n%s\n" % d for d in picked)
    return out


def main():
    with open(os.path.join(ROOT, "tests", "template", "cases.yaml")) as f:
        cases = yaml.safe_load(f)
    wanted = set(sys.argv[1:])
    gold = os.path.join(ROOT, "tests", "template", "golden")
    for case in cases:
        if wanted and case["name"] not in wanted:
            continue
        for ext in (".out", ".err"):
            p = os.path.join(gold, case["name"] + ext)
            if os.path.exists(p):
                os.remove(p)
        try:
            text, ext = render_case(case), ".out"
        except helm.HelmError as e:
            text, ext = "Error: %s\n" % e, ".err"
        with open(os.path.join(gold, case["name"] + ext), "w") as f:
            f.write(text)
        print("%s%s" % (case["name"], ext))


if __name__ == "__main__":
    main()
