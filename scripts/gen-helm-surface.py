#!/usr/bin/env python3
"""Helm's command and flag sets, read from a fetched helm/helm git checkout (never copied in).

Reads pkg/cmd/*.go and pkg/cli/environment.go at a tag (default v4.2.3) with `git show`, finds
each cobra command (its `Use:` name, the `AddCommand(newXCmd(...))` children), the flags each
constructor defines directly or through helper functions it calls (`addInstallFlags`,
`addValueOptionsFlags`, `bindOutputFlag`, `settings.AddFlags`...), and which are hidden or
deprecated. Writes tests/surface/helm-<tag>-commands.tsv: `command path<TAB>flag<TAB>short<TAB>note`,
one line per flag (and one line with an empty flag per command), sorted. Cobra's own `--help`
and plugin commands (loaded at run time) are not listed.

Run: scripts/gen-helm-surface.py GIT_DIR_OF_HELM [TAG]
"""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

FUNC = re.compile(r"^func (?:\([^)]*\)\s*)?(\w+)\(", re.M)
USE = re.compile(r'Use:\s*"([^" ]+)')
NAME = r'(?:"([\w-]+)"|(\w+))'
FLAG = re.compile(
    r'(?<!slog)\.(?:Bool|String|Int|Int64|Uint|Float32|Float64|Duration|StringArray|StringSlice|'
    r'StringToString|IntSlice)(?:Var)?(P?)\(\s*(?:&[^,]+,\s*)?' + NAME + r'(?:,\s*"(\w)")?')
# `f.Var(value, "name", ...)`; the value may be a call with its own commas.
VAR_FLAG = re.compile(r'\.Var(P?)\(\s*(?:[^,()]|\([^()]*\))+,\s*' + NAME + r'(?:,\s*"(\w)")?')
CONST = re.compile(r'^\s*(\w+)\s*=\s*"([\w-]+)"\s*$', re.M)
INLINE = re.compile(r'(\w+)\s*:?=\s*&cobra\.Command\{\s*Use:\s*"([^" ]+)')
HIDDEN = re.compile(r'MarkHidden\(\s*"([\w-]+)"')
DEPRECATED = re.compile(r'MarkDeprecated\(\s*"([\w-]+)"')
CALL = re.compile(r"\b(\w+)\(")


def git_show(git_dir, tag, path):
    return subprocess.check_output(["git", "--git-dir", git_dir, "show", f"{tag}:{path}"], text=True)


def functions(text):
    """name -> body, for every top-level func (methods by their method name)."""
    starts = [(m.start(), m.group(1)) for m in FUNC.finditer(text)]
    out = {}
    for i, (start, name) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(text)
        out[name] = out.get(name, "") + text[start:end]
    return out


def main():
    git_dir = sys.argv[1]
    tag = sys.argv[2] if len(sys.argv) > 2 else "v4.2.3"
    files = subprocess.check_output(
        ["git", "--git-dir", git_dir, "ls-tree", "--name-only", tag, "pkg/cmd/"], text=True).split()
    bodies = {}
    consts = {}
    for path in [f for f in files if f.endswith(".go") and not f.endswith("_test.go")] + [
            "pkg/cli/environment.go"]:
        text = git_show(git_dir, tag, path)
        consts.update(CONST.findall(text))
        for name, body in functions(text).items():
            bodies[name] = bodies.get(name, "") + body

    def own_flags(body, receiver=None):
        """Flags defined in `body`; with `receiver`, only those on `receiver.Flags()`, and
        with receiver "" only those on no inline command's variable."""
        flags = {}
        for regex in (FLAG, VAR_FLAG):
            for m in regex.finditer(body):
                name = m.group(2) or consts.get(m.group(3))
                if not name:
                    continue
                line_start = body.rfind("\n", 0, m.start()) + 1
                prefix = body[line_start:m.start()].strip()
                owner = prefix.split(".")[0] if prefix.endswith("Flags()") else ""
                if receiver is None or owner == receiver or (receiver == "" and owner not in inline_vars):
                    flags[name] = m.group(4) or ""
        return flags

    def flags_of(name, seen):
        """Flags a function defines, itself or through the helpers it calls (not through
        other command constructors)."""
        if name in seen or name not in bodies:
            return {}, set(), set()
        seen.add(name)
        body = bodies[name]
        flags = own_flags(body)
        hidden = set(HIDDEN.findall(body))
        deprecated = set(DEPRECATED.findall(body))
        for call in set(CALL.findall(body)):
            if call in bodies and not USE.search(bodies[call]):
                f, h, d = flags_of(call, seen)
                flags.update(f)
                hidden |= h
                deprecated |= d
        return flags, hidden, deprecated

    rows = []
    inline_vars = set()

    def emit(full, flags, hidden, deprecated):
        rows.append((full, "", "", ""))
        for flag, short in flags.items():
            note = "hidden" if flag in hidden else "deprecated" if flag in deprecated else ""
            rows.append((full, "--" + flag, "-" + short if short else "", note))

    def walk(constructor, path):
        body = bodies[constructor]
        use = USE.search(body)
        name = use.group(1)
        full = (path + " " + name).strip() if path else name
        inline = [(var, use) for var, use in INLINE.findall(body) if use != name]
        inline_vars.clear()
        inline_vars.update(var for var, _ in inline)
        flags, hidden, deprecated = flags_of(constructor, set())
        if inline:
            # Commands built inline (`show all`, `completion bash`): the helpers' flags go to
            # them (Helm adds them in a loop), flags on `var.Flags()` to that one command.
            helper = {k: v for k, v in flags.items() if k not in own_flags(body)}
            # `if subCmd.Name() == "values" { f.StringVar(..., "jsonpath", ...) }`: flags a
            # shared helper adds to one of them only.
            only_for = {}
            for helper_body in (bodies[c] for c in set(CALL.findall(body)) if c in bodies):
                for m in re.finditer(r'if \w+\.Name\(\) == "([\w-]+)" \{([^}]*)\}', helper_body):
                    for flag in own_flags(m.group(2)):
                        only_for[flag] = m.group(1)
            for var, use in inline:
                sub = {k: v for k, v in helper.items() if only_for.get(k, use) == use}
                sub.update(own_flags(body, var))
                emit(full + " " + use, sub, hidden, deprecated)
            flags = own_flags(body, "")
        emit(full, flags, hidden, deprecated)
        children = []
        for m in re.finditer(r"AddCommand\(", body):
            depth, i = 1, m.end()
            while depth and i < len(body):
                depth += {"(": 1, ")": -1}.get(body[i], 0)
                i += 1
            children += re.findall(r"\b(new\w+Cmd)\(", body[m.end():i])
        for child in children:
            if child in bodies and USE.search(bodies[child]):
                walk(child, full)

    walk("newRootCmdWithConfig" if "newRootCmdWithConfig" in bodies else "newRootCmd", "")
    rows = sorted(set(rows))
    out = os.path.join(ROOT, "tests", "surface", f"helm-{tag}-commands.tsv")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        f.write(f"# Helm {tag} commands and flags, from scripts/gen-helm-surface.py\n")
        for row in rows:
            f.write("\t".join(row) + "\n")
    print(out, len(rows))


if __name__ == "__main__":
    main()
