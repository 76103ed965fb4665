"""Import benchmark: peak memory, time and output of `csatbot customers import` on large files.

    python bench/import_bench.py [--megabytes 50] [--baseline GIT_DIR_OR_WORKTREE] [--runs 3]

Writes two CSV files of about the given size: one of valid customers, one where every row is
bad (both names empty). Each import runs in a fresh process on a fresh SQLite database; the
peak resident memory of that process (getrusage), its time and the number of lines it
printed are recorded. With --baseline, the same files go through the code in that checkout,
in the same run, for the ratio. Not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import summary, write_result  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# the command line, then the process's peak resident memory on stderr
CLI = ("import resource, sys\nfrom handlers.cli import main\ntry:\n    code = main(sys.argv[1:])\nfinally:\n"
       "    print('peak_kb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\nsys.exit(code)")


def write_files(folder: Path, megabytes: int) -> dict[str, Path]:
    target = megabytes * 1024 * 1024
    files = {"valid": folder / "valid.csv", "bad": folder / "bad.csv"}
    for kind, path in files.items():
        with path.open("w", encoding="utf-8") as out:
            out.write("code,name_zh,name_en,segment\n")
            index = 0
            while out.tell() < target:
                names = ("", "") if kind == "bad" else (f"华东汽车零部件有限公司{index}", f"East China Parts {index}")
                out.write(f"C{index:07d},{names[0]},{names[1]},乘用车\n")
                index += 1
    return files


def run_import(code_root: Path, csv: Path, database: Path) -> tuple[float, int, float, int]:
    """(seconds, exit code, peak MB, lines printed) of one import in a fresh process."""
    env = dict(os.environ, CSATBOT_DATABASE_URL=f"sqlite:///{database}", CSATBOT_LOCALE="en",
               PYTHONPATH=str(code_root))
    subprocess.run([sys.executable, "-c", CLI, "db", "upgrade"], env=env, cwd=code_root, check=True,
                   capture_output=True)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CLI, "customers", "import", str(csv)], env=env, cwd=code_root,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - started
    err_lines = done.stderr.splitlines()
    peak_kb = next((int(line.split()[1]) for line in err_lines if line.startswith("peak_kb")), 0)
    printed = len(done.stdout.splitlines()) + len([line for line in err_lines if not line.startswith("peak_kb")])
    return seconds, done.returncode, peak_kb / 1024, printed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=int, default=50)
    parser.add_argument("--baseline", help="a checkout of the code to compare with")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    roots = {"this": ROOT, **({"baseline": Path(args.baseline).resolve()} if args.baseline else {})}
    result: dict[str, object] = {"megabytes": args.megabytes, "runs": args.runs}
    with tempfile.TemporaryDirectory() as folder:
        files = write_files(Path(folder), args.megabytes)
        for name, root in roots.items():
            for kind, csv in files.items():
                samples, peaks, printed, codes = [], [], [], []
                for run in range(args.runs):
                    database = Path(folder) / f"{name}-{kind}-{run}.sqlite3"
                    seconds, code, peak, lines = run_import(root, csv, database)
                    samples.append(seconds)
                    peaks.append(peak)
                    printed.append(lines)
                    codes.append(code)
                result[f"{name}:{kind}"] = {**summary(samples), "peak_mb_max": round(max(peaks), 1),
                                            "lines_printed": max(printed), "exit_codes": sorted(set(codes))}
    write_result("import", "sqlite", result)


if __name__ == "__main__":
    main()
