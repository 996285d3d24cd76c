"""Provides ``python -m bench``: run every benchmark and write bench/RESULTS.md."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = [
    ("Foundation: encrypted !ping round trip, cold start, RSS", ["bench.ping_bench"]),
    ("Events: RSVP reactions to card edits", ["bench.events_bench"]),
    ("Resources: requests with approvals, ledger verify", ["bench.resources_bench"]),
    ("Projects: report over 200 × 10 milestones, card edit vs !ping", ["bench.projects_bench"]),
    ("Translation: detection, message-to-prompt latency", ["bench.translate_bench"]),
    ("Localization: round trips with !locale sv vs English", ["bench.locale_bench"]),
    ("Library: rebuild and search of 10,000 entries, !kb search vs !ping", ["bench.library_bench"]),
    ("TUI: 10,000-message room", ["bench.tui_bench"]),
    ("Vault: seal/open throughput vs raw SecretBox, Argon2id cost", ["bench.vault_bench"]),
    ("Scaling: one runtime in 10, 100, 500 rooms", ["bench.scaling_bench"]),
]

SCALED = "\n## Scaling on the scaled homeserver"


def machine() -> str:
    """One line about the machine the numbers come from."""
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{platform.machine()}, {os.cpu_count()} cores{mem}, Python {platform.python_version()}"


def main() -> int:
    """Run each benchmark that exists, in turn; collect their output."""
    only = set(sys.argv[1:])
    parts = [
        f"# Benchmark results\n\nRun {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} "
        f"on {machine()}. Each number comes with its same-run baseline.\n"
    ]
    failed = 0
    for title, module in BENCHMARKS:
        if only and module[0].split(".")[-1] not in only:
            continue
        if not (HERE / (module[0].split(".")[-1] + ".py")).exists():
            continue
        print(f"== {title}", flush=True)
        t0 = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", *module], capture_output=True, text=True)
        # A bench bot's first start prints its recovery key: never copy a key into the report.
        lines = [
            line for line in proc.stdout.splitlines() if line.strip() and "recovery key" not in line
        ]
        print("\n".join(lines), flush=True)
        status = "" if proc.returncode == 0 else f" — FAILED (exit {proc.returncode})"
        failed += proc.returncode != 0
        parts.append(
            f"\n## {title}{status}\n\n({time.monotonic() - t0:.0f} s)\n\n```\n"
            + "\n".join(lines[-40:])
            + ("\n" + proc.stderr[-1500:] if status else "")
            + "\n```\n"
        )
    results = HERE / "RESULTS.md"
    old = results.read_text() if results.exists() else ""
    # The scaled homeserver's series comes from `make scale-test SCALE_BENCH=…`: keep it.
    kept = old[old.index(SCALED) :] if SCALED in old else ""
    results.write_text("".join(parts) + kept)
    print(f"wrote {HERE / 'RESULTS.md'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
