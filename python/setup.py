# SPDX-License-Identifier: MIT
"""Builds roost._roost, the C extension over libroost.

Where libroost comes from, first match wins:
  ROOST_BUILD_DIR   the absolute path of a CMake build tree of libroost
                    (the library is linked from there, with an rpath to
                    it; the headers come from the include/ of the source
                    tree it was configured from);
  pkg-config roost  an installed libroost.
"""
import os
import shlex
import subprocess

from setuptools import Extension, setup

SOURCES = [os.path.join("csrc", f) for f in (
    "module.c", "address.c", "message.c", "context.c", "control.c",
    "run.c", "codec.c", "checks.c")]
# The project's warning set, as errors (STYLE.md section 9).
WARNINGS = ["-Wall", "-Wextra", "-Wshadow", "-Wstrict-prototypes", "-Werror"]


def source_dir(build):
    """The source tree a CMake build tree was configured from."""
    try:
        with open(os.path.join(build, "CMakeCache.txt")) as cache:
            for line in cache:
                if line.startswith("roost_SOURCE_DIR:"):
                    return line.split("=", 1)[1].strip()
    except OSError:
        pass
    raise SystemExit(f"roost: {build} is not a configured libroost build tree")


def libroost_flags():
    """Compile and link flags for libroost, as (cflags, ldflags)."""
    build = os.environ.get("ROOST_BUILD_DIR")
    if build:
        if not os.path.isabs(build):  # pip runs this from another folder
            raise SystemExit(f"roost: ROOST_BUILD_DIR must be an absolute "
                             f"path (say $PWD/build), not {build!r}")
        if not os.path.exists(os.path.join(build, "libroost.so")):
            raise SystemExit(f"roost: no libroost.so in ROOST_BUILD_DIR={build}")
        return ([f"-I{source_dir(build)}/include"],
                [f"-L{build}", "-lroost", f"-Wl,-rpath,{build}"])
    try:
        cflags = subprocess.check_output(["pkg-config", "--cflags", "roost"], text=True)
        libs = subprocess.check_output(["pkg-config", "--libs", "roost"], text=True)
    except (OSError, subprocess.CalledProcessError):
        raise SystemExit("roost: set ROOST_BUILD_DIR to a libroost build "
                         "tree, or install libroost (pkg-config roost)")
    return shlex.split(cflags), shlex.split(libs)


cflags, ldflags = libroost_flags()
extra = shlex.split(os.environ.get("ROOST_PY_CFLAGS", ""))  # say, ASan
setup(ext_modules=[Extension(
    "roost._roost", sources=SOURCES, depends=["csrc/_roost.h"],
    extra_compile_args=WARNINGS + cflags + extra,
    extra_link_args=ldflags + extra)])
