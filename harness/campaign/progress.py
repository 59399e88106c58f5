"""Live progress of a campaign: one rewritten line on a terminal, plain lines otherwise."""

import sys
import time


class Progress:
    PLAIN_INTERVAL = 5.0  # seconds between two lines when the output is not a terminal

    def __init__(self, workers: int, branches: tuple[str, ...], out=sys.stdout):
        self.workers = workers
        self.branches = branches
        self.out = out
        self.tty = out.isatty()
        self.last = 0.0

    def line(self, workers: dict, failures: int, elapsed: float) -> str:
        steps = sum(w["steps"] for w in workers.values())
        failing = sum(w["failing"] for w in workers.values())
        if failing and not failures:
            failures = f"0 (shrinking a failure: {failing} failing runs)"
        sequences = sum(w["sequences"] for w in workers.values())
        reached = {b for w in workers.values() for b, n in w["branches"].items() if n}
        marks = " ".join(("+" if b in reached else "-") + b.split(".")[-1] for b in self.branches)
        return (
            f"[{elapsed:6.1f}s] steps {steps:,}  {steps / max(elapsed, 1e-9):,.0f}/s  "
            f"sequences {sequences:,}  workers {len(workers)}/{self.workers}  "
            f"divergences {failures}  branches {len(reached)}/{len(self.branches)}: {marks}"
        )

    def update(self, workers: dict, failures: int, elapsed: float) -> None:
        now = time.monotonic()
        if not workers:
            return
        if self.tty:
            if now - self.last >= 0.2:
                self.out.write("\r\x1b[2K" + self.line(workers, failures, elapsed)[:200])
                self.out.flush()
                self.last = now
        elif now - self.last >= self.PLAIN_INTERVAL:
            print(self.line(workers, failures, elapsed), file=self.out, flush=True)
            self.last = now

    def finish(self) -> None:
        if self.tty:
            self.out.write("\n")
            self.out.flush()
