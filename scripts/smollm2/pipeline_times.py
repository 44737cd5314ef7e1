#!/usr/bin/env python3
"""Summarise a `charter pipeline` run: seconds and counts per stage from its manifest.json, plus the machine.

Usage:
    python3 scripts/smollm2/pipeline_times.py runs/smollm2-cai/manifest.json --results scripts/smollm2/results/pipeline.json
"""
import argparse
import json
import os
import platform


def cpu_model():
    """The CPU's model name from /proc/cpuinfo (Linux), else platform.processor()."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("manifest", help="the run's manifest.json")
    parser.add_argument("--results", required=True, help="summary JSON to write")
    parser.add_argument("--threads", type=int, default=1, help="the CHARTER_THREADS the run used (recorded as given)")
    args = parser.parse_args()

    with open(args.manifest, encoding="utf-8") as source:
        manifest = json.load(source)
    stages = [{"name": s["name"], "type": s["type"], "status": s["status"], "seconds": round(s.get("seconds") or 0, 1),
               "counts": s["counts"]} for s in manifest["stages"]]
    summary = {"recipe": manifest["name"], "charter_version": manifest.get("charterVersion") or manifest.get("charter_version"),
               "constitution": manifest["constitution"], "cpu": cpu_model(), "cores": os.cpu_count(),
               "charter_threads": args.threads, "stages": stages,
               "total_seconds": round(sum(s["seconds"] for s in stages), 1)}
    with open(args.results, "w", encoding="utf-8") as out:
        json.dump(summary, out, indent=2)
    for stage in stages:
        print(f"{stage['name']:>10} ({stage['type']}): {stage['seconds']:7.1f} s")
    print(f"{'total':>10}: {summary['total_seconds']:7.1f} s")


if __name__ == "__main__":
    main()
