#!/usr/bin/env python3
"""Exports chart folders out of a git repository of charts (a clone, or a bare mirror such as
the fetch tool leaves) into DEST, ready for `scripts/bench-template --real-world` and
`scripts/corpus-diff.py`. A dependency that the chart does not carry in charts/ (bitnami's
charts name theirs in an OCI registry) is copied from the folder of the same name next to the
chart in the same repository, recursively, as `helm dependency build` would have unpacked it;
one that is nowhere in the repository is dropped from the export with a note on stderr, and the
chart is skipped (Helm would refuse it too). Nothing exported here is ever committed.

  scripts/bench-corpus-export.py GIT_DIR DEST CHART_PATH...
  e.g. scripts/bench-corpus-export.py ~/src/bitnami-charts /tmp/corpus bitnami/nginx bitnami/milvus
"""
import io, os, re, shutil, subprocess, sys, tarfile


def git(gitdir, *args):
    return subprocess.run(["git", "--git-dir", gitdir, *args], check=True, capture_output=True).stdout


def resolve_git_dir(path):
    for cand in (os.path.join(path, ".git"), path):
        if subprocess.run(["git", "--git-dir", cand, "rev-parse", "HEAD"], capture_output=True).returncode == 0:
            return cand
    sys.exit("bench-corpus-export: %s is not a git repository" % path)


def export(gitdir, path, dest):
    """Writes the tree at HEAD:path into dest."""
    data = git(gitdir, "archive", "--format=tar", "HEAD", path)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        prefix = path.rstrip("/") + "/"
        for m in tar.getmembers():
            if not m.name.startswith(prefix) or not (m.isfile() or m.isdir()):
                continue
            rel = m.name[len(prefix):]
            target = os.path.join(dest, rel)
            if m.isdir():
                os.makedirs(target, exist_ok=True)
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as out:
                out.write(tar.extractfile(m).read())


def dependency_names(chart_dir):
    """The names of the dependencies listed in Chart.yaml or requirements.yaml (a light
    reader of the `dependencies:` list, without needing a YAML library): an item starts at a
    dash at the list's own indentation, whatever key comes first (bitnami writes
    `- condition: ...` before `name:`), and its `name:` may be on any of its lines."""
    names = []
    for f in ("Chart.yaml", "requirements.yaml"):
        p = os.path.join(chart_dir, f)
        if not os.path.exists(p):
            continue
        inside = False
        item_indent = None
        item = {}
        for line in open(p, encoding="utf-8", errors="replace"):
            if re.match(r"^dependencies:\s*$", line):
                inside, item_indent = True, None
                continue
            if inside and re.match(r"^\S", line) and not line.startswith("-"):
                inside = False
            if not inside:
                continue
            dash = re.match(r"^(\s*)-\s", line)
            if dash and (item_indent is None or len(dash.group(1)) == item_indent):
                item_indent = len(dash.group(1))
                item = {}
                names.append(item)
            m = re.match(r"^\s*(-\s*)?(name|alias):\s*['\"]?([^'\"\s#]+)", line)
            if m and m.group(2) not in item:
                item[m.group(2)] = m.group(3)
    return [i["name"] for i in names if "name" in i]


def vendor(gitdir, repo_paths, chart_path, chart_dir, depth=0):
    """Copies missing dependencies of the chart at chart_dir from sibling folders."""
    have = set()
    charts = os.path.join(chart_dir, "charts")
    if os.path.isdir(charts):
        for n in os.listdir(charts):
            have.add(re.sub(r"-[0-9][^/]*\.tgz$", "", n))
    parent = os.path.dirname(chart_path.rstrip("/"))
    for name in dependency_names(chart_dir):
        if name in have:
            continue
        sibling = (parent + "/" if parent else "") + name
        if sibling + "/Chart.yaml" not in repo_paths or depth > 4:
            return False
        sub = os.path.join(charts, name)
        export(gitdir, sibling, sub)
        if not vendor(gitdir, repo_paths, sibling, sub, depth + 1):
            return False
        have.add(name)
    return True


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    gitdir, dest, paths = resolve_git_dir(sys.argv[1]), sys.argv[2], sys.argv[3:]
    repo_paths = set(git(gitdir, "ls-tree", "-r", "--name-only", "HEAD").decode().splitlines())
    os.makedirs(dest, exist_ok=True)
    for path in paths:
        path = path.rstrip("/")
        out = os.path.join(dest, os.path.basename(path))
        if os.path.exists(out):
            shutil.rmtree(out)
        export(gitdir, path, out)
        if not vendor(gitdir, repo_paths, path, out):
            print("bench-corpus-export: skipped %s: a dependency is not in the repository" % path, file=sys.stderr)
            shutil.rmtree(out)
            continue
        print(out)


if __name__ == "__main__":
    main()
