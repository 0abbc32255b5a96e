"""Measure, on this machine and your sizes, where direct and FFT methods cross over.

The same measurement as ``fftconv bench crossover``, from Python::

    from fftconv.benchmark import crossover, plot, write_csv

    result = crossover([(1024, 1024)], [3, 7, 15, 31, 63], dtype="float32")
    print(result.table())
    print(result.crossovers())        # {(1024, 1024): 13.7}: FFT wins from K ~ 14
    plot(result, "crossover.png")     # needs matplotlib
"""

from ._crossover import CrossoverResult, crossover, median_time, plot, write_csv

__all__ = ["CrossoverResult", "crossover", "median_time", "plot", "write_csv"]
