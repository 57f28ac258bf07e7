#!/usr/bin/env python3
"""Print the shipped models' metrics, training time and size (from their metadata) as Markdown tables."""

import glob
import json
import os
import sys


def fmt(x, digits=3):
    if x is None:
        return "–"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, (int, float)):
        if x != x or x in (float("inf"), float("-inf")):
            return str(x)
        if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e4):
            return f"{x:.{digits - 1}e}"
        return f"{x:.{digits}g}"
    return str(x)


def main(root="assets/models"):
    rows = []
    for path in sorted(glob.glob(os.path.join(root, "*", "model.json"))):
        with open(path) as f:
            meta = json.load(f)["userDefinedMetadata"]["threeLnn"]
        name = os.path.basename(os.path.dirname(path))
        size = os.path.getsize(os.path.join(os.path.dirname(path), "weights.bin"))
        rows.append((name, meta, size))
    print("| model | kind | layers | parameters | weights | steps | batch | training time | hardware |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, m, size in rows:
        p = m.get("provenance", {})
        layers = "→".join(str(x) for x in m["architecture"]["layers"]) + " " + m["architecture"]["activation"]
        n_params = size // 4
        print(
            f"| {name} | {m['kind']} | {layers} | {n_params:,} | {size / 1024:.0f} KiB | {p.get('steps', '–'):,} | "
            f"{p.get('batch', '–')} | {fmt(p.get('wallTimeSeconds', 0) / 60, 3)} min | {p.get('hardware', '–')} |"
        )
    print()
    print("| model | metric | value | JAX cross-check | CI subset (quick) |")
    print("|---|---|---|---|---|")
    for name, m, _ in rows:
        mets = m.get("metrics", {})
        jax = mets.get("jax", {})
        quick = mets.get("quick", {})
        for key, val in mets.items():
            if key in ("jax", "quick") or not isinstance(val, dict) or "value" not in val:
                continue
            if key == "validationQddL1":
                continue
            extra = []
            for k in ("median", "max", "nonFinite", "exact", "belowC", "maxRelErrorFirst10", "modesWithin1Percent"):
                if k in val:
                    extra.append(f"{k} {fmt(val[k])}")
            j = jax.get(key, {}).get("value") if isinstance(jax.get(key), dict) else None
            q = quick.get(key, {}).get("value") if isinstance(quick.get(key), dict) else None
            print(
                f"| {name} | {key} | **{fmt(val['value'])}** ({', '.join(extra)}) | {fmt(j)} | {fmt(q)} |"
            )


if __name__ == "__main__":
    main(*sys.argv[1:])
