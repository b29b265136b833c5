"""What the place data cost: their first load (time and memory), and each lookup.

    python -m bench.places [--loads 7] [--lookups 20000]

The first load is timed in fresh processes (``flows.places`` imported first, then
``default_places()``, which reads flows/data/places/ once), each reporting its time, the memory
Python allocated for the data (tracemalloc) and how much the process's resident memory grew;
medians of ``--loads`` processes. Lookups are timed in this process over real codes: every
postal code (and some that do not exist) for ``communes_for``, every commune for ``qpvs_in``,
in a shuffled order, in batches; the median batch gives the cost of one call.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from flows.places import PLACES_DIR, PLACES_FILE, default_places

# Run in a fresh interpreter: what the first person's postal code costs the process.
# Run in a fresh interpreter, flows.places imported (a few ms, mostly dataclasses and pathlib,
# which the service imports anyway): what the first person's postal code costs the process.
FIRST_LOAD = """\
import json, time, tracemalloc
from flows.places import default_places

def resident_kib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))

before = resident_kib()
tracemalloc.start()
default_places()
allocated, _ = tracemalloc.get_traced_memory()
tracemalloc.stop()
print(json.dumps({"allocated_mib": allocated / 2**20,
                  "resident_mib": (resident_kib() - before) / 1024}))
"""
# Without tracemalloc, which slows allocation down: the time alone.
FIRST_LOAD_TIME = """\
import time
from flows.places import default_places
start = time.perf_counter()
default_places()
print((time.perf_counter() - start) * 1000)
"""


def first_loads(count: int) -> dict[str, float]:
    runs = [
        json.loads(subprocess.check_output([sys.executable, "-c", FIRST_LOAD], text=True))
        for _ in range(count)
    ]
    times = [
        float(subprocess.check_output([sys.executable, "-c", FIRST_LOAD_TIME], text=True))
        for _ in range(count)
    ]
    medians = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    return medians | {"ms": statistics.median(times)}


def per_call_us(call: Callable[[str], object], arguments: list[str], batch: int = 1000) -> float:
    """Microseconds per call: the median over batches of ``batch`` calls."""
    timings = []
    for start in range(0, len(arguments) - batch + 1, batch):
        chunk = arguments[start : start + batch]
        began = time.perf_counter()
        for argument in chunk:
            call(argument)
        timings.append((time.perf_counter() - began) / batch)
    return statistics.median(timings) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=7, help="fresh processes for the first load")
    parser.add_argument("--lookups", type=int, default=20000, help="calls timed per lookup")
    args = parser.parse_args()

    size = (PLACES_DIR / PLACES_FILE).stat().st_size
    loaded = first_loads(args.loads)
    print(f"data: {PLACES_FILE}, {size / 2**20:.2f} MiB")
    print(
        f"first load (median of {args.loads} processes): {loaded['ms']:.1f} ms,"
        f" {loaded['allocated_mib']:.1f} MiB allocated, resident memory"
        f" +{loaded['resident_mib']:.1f} MiB"
    )

    places = default_places()
    data = json.loads((PLACES_DIR / PLACES_FILE).read_bytes())
    shuffle = random.Random(16).shuffle
    postal_codes = [*data["postal_codes"], *(f"{n:05d}" for n in range(0, 99999, 97))]
    communes = list(data["communes"])
    for codes in (postal_codes, communes):
        shuffle(codes)
    postal_codes = (postal_codes * (args.lookups // len(postal_codes) + 1))[: args.lookups]
    communes = (communes * (args.lookups // len(communes) + 1))[: args.lookups]
    print(f"communes_for: {per_call_us(places.communes_for, postal_codes):.2f} µs per call")
    one = [code for code in postal_codes if len(places.communes_for(code)) == 1]
    several = [code for code in postal_codes if len(places.communes_for(code)) > 1]
    for what, codes in (("one commune", one), ("several", several)):
        codes = (codes * (args.lookups // len(codes) + 1))[: args.lookups]
        print(f"  postal codes of {what}: {per_call_us(places.communes_for, codes):.2f} µs")
    print(f"qpvs_in: {per_call_us(places.qpvs_in, communes):.2f} µs per call")
    print(f"postal_code_exists: {per_call_us(places.postal_code_exists, postal_codes):.2f} µs")


if __name__ == "__main__":
    main()
