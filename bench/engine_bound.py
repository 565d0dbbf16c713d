"""How much faster than the CLI the service can be at best (issue 2's 1.3x goal).

Run from the repository root::

    .venv/bin/python bench/engine_bound.py            # 3 rounds over the image set
    .venv/bin/python bench/engine_bound.py --rounds 5

The service runs the same libtesseract as the ``tesseract`` command (tesserocr
is built against Debian's library, see ``app/engines/tesseract.py``), so what a
loaded model can save is the CLI's start-up and model load, nothing of the
recognition itself. This script measures that ceiling in CPU seconds, which
the host's neighbours disturb less than wall time, on ``bench/throughput.py``'s
image set, one process, the three sides taking turns image by image:

* CLI: ``tesseract IMG stdout`` (CPU of the child process, ``RUSAGE_CHILDREN``);
* decode + engine: the page decoded from its PNG bytes as a job does it (the
  CLI decodes it too), then the worker's :class:`TesseractEngine` with its
  model loaded (``recognize_page``): a service that cost nothing else;
* pipeline: what a job does with the page: decode, preprocess (scale decision,
  deskew search, orientation policy), engine, result schema (``to_dict``).

Printed after every round: the running CPU totals and the ratios CLI /
(decode + engine), the best throughput ratio any service built on this engine
can reach on two busy cores, CLI / engine (without the decode) and CLI /
pipeline. All with ``OMP_THREAD_LIMIT=1``.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

os.environ["OMP_THREAD_LIMIT"] = "1"
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _data  # noqa: E402
import throughput  # noqa: E402


def children_cpu() -> float:
    """CPU seconds (user + system) of the waited-for child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    _data.django_setup()

    from app.engines.base import EngineOptions
    from app.engines.tesseract import TesseractConfig, TesseractEngine, find_tessdata
    from app.pipeline import document, inputs
    from app.pipeline.options import JobOptions

    tessdata = find_tessdata("")
    engine = TesseractEngine(TesseractConfig(tessdata_dir=tessdata))
    options = EngineOptions(languages=("eng",))
    job_options, limits = JobOptions(languages=("eng",)), document.Limits()
    images = throughput.image_set()
    data = {path: path.read_bytes() for path in images}

    def first_page(path: Path) -> inputs.PageImage:
        return next(inputs.iter_pages(io.BytesIO(data[path]), "image/png", max_pixels=60_000_000))

    engine.recognize_page(first_page(images[2]).image, page_number=1, options=options)  # load
    print(f"{len(images)} images; load average {os.getloadavg()[0]:.2f}")
    cli = decoding = alone = pipeline = 0.0
    for round_number in range(1, args.rounds + 1):
        for path in images:
            before = children_cpu()
            subprocess.run(["tesseract", str(path), "stdout"], capture_output=True, check=True)
            cli += children_cpu() - before

            started = time.process_time()
            page = first_page(path)
            decoding += time.process_time() - started
            started = time.process_time()
            engine.recognize_page(page.image, page_number=1, options=options)
            alone += time.process_time() - started

            started = time.process_time()
            # What a page task runs: the document pipeline (decode, preprocessing, engine).
            outcome = next(
                document.read_pages(
                    data[path],
                    "image/png",
                    engine=engine,
                    options=job_options,
                    limits=limits,
                    numbers=[1],
                )
            )
            outcome.result.to_dict()
            pipeline += time.process_time() - started
        ceiling = decoding + alone
        print(
            f"round {round_number}: CPU s  CLI {cli:.2f}  decode {decoding:.2f} + engine "
            f"{alone:.2f} = {ceiling:.2f}  pipeline {pipeline:.2f}  |  CLI/(decode+engine) "
            f"{cli / ceiling:.2f}x  CLI/engine {cli / alone:.2f}x  CLI/pipeline "
            f"{cli / pipeline:.2f}x",
            flush=True,
        )


if __name__ == "__main__":
    main()
