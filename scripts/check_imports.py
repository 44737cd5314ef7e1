#!/usr/bin/env python3
"""Checks that every module a Swift file imports is a declared dependency of its target in Package.swift.

Reads `swift package dump-package` (so the declared graph is SwiftPM's own view), scans Sources/<Target> and
Tests/<Target> for `import X` / `@testable import X`, and prints each undeclared edge as `file:line: Target imports
X, not declared`. System modules (Foundation, Glibc, XCTest, …) are exempt. Exit status 1 when any edge is missing.
Usage: python3 scripts/check_imports.py [--graph]   (--graph prints the declared target graph, one edge a line)
"""
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SYSTEM = {"Foundation", "FoundationNetworking", "FoundationEssentials", "Glibc", "Darwin", "Musl", "XCTest", "Testing",
          "Dispatch", "Synchronization", "os", "Android", "WinSDK", "ucrt", "CoreFoundation", "_Concurrency"}
IMPORT = re.compile(r"^\s*(?:@testable\s+|@_exported\s+|@preconcurrency\s+)*import\s+(?:struct\s+|class\s+|enum\s+|func\s+)?([A-Za-z_][A-Za-z0-9_]*)")


def main() -> int:
    dump = json.loads(subprocess.run(["swift", "package", "dump-package"], cwd=ROOT, check=True,
                                     capture_output=True, text=True).stdout)
    local = {t["name"] for t in dump["targets"]}
    declared = {}
    for target in dump["targets"]:
        names = set()
        for dependency in target.get("dependencies", []):
            for kind in ("byName", "target", "product"):
                if kind in dependency:
                    names.add(dependency[kind][0])
        declared[target["name"]] = names
    if "--graph" in sys.argv:
        for name in sorted(declared):
            for dependency in sorted(declared[name]):
                print(f"{name} -> {dependency}")
        return 0
    problems = []
    for target in dump["targets"]:
        name = target["name"]
        folder = target.get("path") or os.path.join("Tests" if target["type"] == "test" else "Sources", name)
        for directory, _, files in os.walk(os.path.join(ROOT, folder)):
            for file in sorted(files):
                if not file.endswith(".swift"):
                    continue
                path = os.path.join(directory, file)
                with open(path, encoding="utf-8") as handle:
                    for number, line in enumerate(handle, 1):
                        match = IMPORT.match(line)
                        if not match:
                            continue
                        module = match.group(1)
                        if module in SYSTEM or module == name or module in declared[name]:
                            continue
                        # Products are declared by product name; module names of products are accepted when the
                        # product's package is a dependency (e.g. NIOCore from swift-nio) only if named explicitly.
                        problems.append(f"{os.path.relpath(path, ROOT)}:{number}: {name} imports {module}, not declared")
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} undeclared import(s)")
        return 1
    print("every import is a declared dependency")
    return 0


if __name__ == "__main__":
    sys.exit(main())
