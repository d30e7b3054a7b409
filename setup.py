"""Build steps that pyproject.toml cannot express: the package layout, the Cython kernels and the gRPC stubs.

Everything installs under one name, ``voxprint``, assembled in ``proto/voxprint``: the contract
(``v1``) and the vocabulary both sides share (``common``) live there, and ``server``, ``clients``
and ``rasterizer`` are links to the top-level folders of the same names, so every tool (pip, mypy,
an IDE, import-linter) sees one ordinary package rooted at ``proto/``.

The stubs are generated into ``proto/voxprint/v1`` (next to the ``.proto``) before the normal
build, so ``from voxprint.v1 import voxprint_pb2, voxprint_pb2_grpc`` works in both a regular
and an editable install. They are build products and are not committed.
"""

from pathlib import Path

import numpy
from Cython.Build import cythonize
from setuptools import Command, Extension, find_packages, setup
from setuptools.command.build_py import build_py
from setuptools.command.develop import develop
from setuptools.command.egg_info import egg_info

ROOT = Path(__file__).parent.resolve()
PROTO_ROOT = ROOT / "proto"


class GenerateStubs(Command):
    """Compile every ``proto/**/*.proto`` into ``*_pb2.py``, ``*_pb2_grpc.py`` and ``.pyi`` stubs."""

    description = "generate gRPC Python stubs from proto/"
    user_options: list = []

    def initialize_options(self) -> None:
        pass

    def finalize_options(self) -> None:
        pass

    def run(self) -> None:
        from grpc_tools import protoc

        include = Path(protoc.__file__).parent / "_proto"
        for proto in sorted(PROTO_ROOT.rglob("*.proto")):
            args = [
                "grpc_tools.protoc",
                f"-I{PROTO_ROOT}",
                f"-I{include}",
                f"--python_out={PROTO_ROOT}",
                f"--grpc_python_out={PROTO_ROOT}",
                f"--mypy_out={PROTO_ROOT}",
                f"--mypy_grpc_out={PROTO_ROOT}",
                str(proto.relative_to(PROTO_ROOT)),
            ]
            if protoc.main(args) != 0:
                raise RuntimeError(f"protoc failed on {proto}")


def _generating_stubs_first(command_class):
    class Command(command_class):
        def run(self) -> None:
            self.run_command("generate_stubs")
            super().run()

    return Command


extensions = [
    Extension(
        "voxprint.rasterizer._kernels",
        ["rasterizer/_kernels.pyx"],
        include_dirs=[numpy.get_include()],
        # -O3 but no -march=native: wheels built here must run on other x86-64 CPUs.
        extra_compile_args=["-O3"],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    )
]

setup(
    # find_packages follows the links in proto/voxprint, so the subpackages of server/ etc. are found.
    packages=find_packages(str(PROTO_ROOT)),
    package_dir={"": "proto"},
    package_data={
        "voxprint": ["py.typed"],
        "voxprint.v1": ["*.proto", "*.pyi"],
        "voxprint.rasterizer": ["*.pyi"],
    },
    # The generated C is a build intermediate; wheels carry the compiled module only.
    exclude_package_data={"voxprint.rasterizer": ["*.c"]},
    ext_modules=cythonize(extensions, language_level=3),
    cmdclass={
        "generate_stubs": GenerateStubs,
        "build_py": _generating_stubs_first(build_py),
        "develop": _generating_stubs_first(develop),
        "egg_info": _generating_stubs_first(egg_info),
    },
)
