"""The command line's exit codes, the summary of them that ends ``iseg-bench --help``, and how a
command that is interrupted (Ctrl-C) ends."""

from __future__ import annotations

EXIT_OK, EXIT_REGRESSION, EXIT_USAGE, EXIT_FAILED_SAMPLES, EXIT_STORE, EXIT_INCOMPARABLE = 0, 1, 2, 3, 4, 5
EXIT_BUSY = 6  # another process holds the results folder's writer lock
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a command ended by Ctrl-C

EXIT_CODES_HELP = ("Exit codes: 0 success; 1 regress found a change beyond tolerance; 2 bad usage (unknown name, "
                   "bad option, missing data folder, absent device); 3 results stored but some samples failed or a "
                   "method could not be loaded; 4 the results folder cannot be read or written; 5 regress refused a "
                   "baseline of another experiment; 6 another process is writing the results folder (run --wait waits "
                   "for it); 130 interrupted (Ctrl-C; re-running a run resumes it).")


def quiet_interrupts() -> None:
    """Ignore further Ctrl-C while the command reports an interruption and exits."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
