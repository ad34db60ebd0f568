"""Builds the engine's fast path, engine._rtp, from Cython.

PODIUM_DEBUG=1 builds with line tracing and annotation for profiling and coverage.
"""

import os

from Cython.Build import cythonize
from setuptools import Extension, setup

DEBUG = os.environ.get("PODIUM_DEBUG") == "1"

extensions = [
    Extension(
        "engine._rtp",
        ["engine/_rtp.pyx"],
        extra_compile_args=["-O3", "-fno-strict-aliasing"] + (["-g", "-O0"] if DEBUG else []),
        define_macros=[("CYTHON_TRACE_NOGIL", "1")] if DEBUG else [],
    )
]

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
