"""Builds the engine's fast path, engine._rtp, and its test hooks, engine._testing, from Cython.

PODIUM_DEBUG=1 builds with line tracing and annotation for profiling and coverage.
"""

import os

from Cython.Build import cythonize
from setuptools import Extension, setup

DEBUG = os.environ.get("PODIUM_DEBUG") == "1"


def _extension(name: str) -> Extension:
    return Extension(
        f"engine.{name}",
        [f"engine/{name}.pyx"],
        extra_compile_args=["-O3", "-fno-strict-aliasing"] + (["-g", "-O0"] if DEBUG else []),
        define_macros=[("CYTHON_TRACE_NOGIL", "1")] if DEBUG else [],
    )


# engine._testing holds the test hooks (packet views as dicts, datagrams fed without the socket, an
# SRTP context driven with bytes); it reaches engine._rtp's internals through engine/_rtp.pxd.
extensions = [_extension("_rtp"), _extension("_testing")]

setup(
    ext_modules=cythonize(
        extensions,
        language_level=3,
        annotate=DEBUG,
        compiler_directives={
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
            "linetrace": DEBUG,
        },
    )
)
