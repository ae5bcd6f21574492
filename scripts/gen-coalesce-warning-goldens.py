#!/usr/bin/env python3
"""Generates tests/coalesce-warnings/golden/NAME.err from tests/coalesce-warnings/cases.txt:
what `helm template` logs on standard error for each case, computed with real Helm v4.2.3
(helm-python-sdk 0.2.2).

Each case is rendered by a client-only dry-run install in a child process whose standard error
is captured. The SDK keeps Go's default loggers, so `log.Printf` lines come out as
`DATE TIME message` and `slog` lines as `DATE TIME LEVEL message key=value...`; the helm CLI
sends both through its slog text handler without the time (`level=INFO msg="..."`), which is
the form written here. `this chart is deprecated` is logged by the CLI (pkg/cmd/install.go,
before the values are processed), not by the SDK, so it is added here for deprecated charts.
A case whose second word is `lint` is linted instead (`helm lint CHART`), which logs what
`required` and `fail` would have failed on.
Usage: scripts/gen-coalesce-warning-goldens.py [CASE-NAME ...]
"""
import importlib.util, json, os, re, subprocess, sys

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

CASES = os.path.join(ROOT, "tests", "coalesce-warnings", "cases.txt")
GOLDEN = os.path.join(ROOT, "tests", "coalesce-warnings", "golden")
GO_LOG_TIME = re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d ")
SLOG_LEVEL = re.compile(r"^(DEBUG|INFO|WARN|ERROR) ")
SLOG_ATTR = re.compile(r' ([A-Za-z_][\w.]*)=("(?:[^"\\]|\\.)*"|\S+)$')


def user_values(args):
    """values.Options.MergeValues for the case's flags, as for `helm template`."""
    return template_goldens.user_values(template_goldens.parse_args(args))


def render(chart_dir, args, lint=False):
    """In the child process: the dry-run install (or the lint) whose Go logging lands on our
    stderr."""
    if lint:
        helm.lint(os.path.join(ROOT, chart_dir), user_values(args))
        return
    chart = helm.Chart.load(os.path.join(ROOT, chart_dir))
    try:
        with helm.Config(storage_driver="memory") as cfg:
            cfg.install(chart, "release-name", user_values(args), dry_run="client")
    finally:
        chart.close()


def go_quote(s):
    """strconv.Quote for the ASCII the fixtures produce."""
    assert s.isascii(), s
    out = '"'
    for c in s:
        if c in '"\\':
            out += "\\" + c
        elif c == "\n":
            out += "\\n"
        elif c == "\t":
            out += "\\t"
        elif ord(c) < 0x20:
            out += "\\x%02x" % ord(c)
        else:
            out += c
    return out + '"'


def text_value(s):
    """How the slog text handler writes a string: quoted when empty or holding a space,
    `=`, a quote or a control character."""
    if s == "" or any(c in ' ="' or ord(c) < 0x20 for c in s):
        return go_quote(s)
    return s


def cli_line(sdk_line):
    """One line of the SDK's stderr as the helm CLI's slog text handler prints it."""
    line = GO_LOG_TIME.sub("", sdk_line, count=1)
    m = SLOG_LEVEL.match(line)
    if not m:
        return "level=INFO msg=%s" % text_value(line)
    rest, attrs = line[m.end():], []
    while True:
        a = SLOG_ATTR.search(rest)
        if not a:
            break
        attrs.insert(0, "%s=%s" % (a.group(1), a.group(2)))
        rest = rest[:a.start()]
    return " ".join(["level=%s msg=%s" % (m.group(1), text_value(rest))] + attrs)


def stderr_of(case):
    lint = case[1] == "lint"
    name, chart_dir, args = case[0], case[1 + lint], case[2 + lint:]
    out = subprocess.run([sys.executable, __file__, "--render", json.dumps([chart_dir, args, lint])],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit("%s: render failed:\n%s" % (name, out.stderr))
    lines = []
    with open(os.path.join(ROOT, chart_dir, "Chart.yaml")) as f:
        if not lint and yaml.safe_load(f).get("deprecated"):
            lines.append("level=WARN msg=%s" % text_value("this chart is deprecated"))
    lines += [cli_line(l) for l in out.stderr.splitlines() if l.strip()]
    return "".join(l + "\n" for l in lines)


def main():
    if sys.argv[1:2] == ["--render"]:
        render(*json.loads(sys.argv[2]))
        return
    wanted = set(sys.argv[1:])
    with open(CASES) as f:
        cases = [l.split() for l in f if l.strip() and not l.startswith("#")]
    os.makedirs(GOLDEN, exist_ok=True)
    for case in cases:
        if wanted and case[0] not in wanted:
            continue
        text = stderr_of(case)
        # Go ranges over maps in random order: a case whose warnings could come out in
        # either order would make a flaky golden.
        if stderr_of(case) != text:
            raise SystemExit("%s: Helm's stderr differs between runs" % case[0])
        with open(os.path.join(GOLDEN, case[0] + ".err"), "w") as f:
            f.write(text)
        print("%s.err: %d line(s)" % (case[0], text.count("\n")))


if __name__ == "__main__":
    main()
