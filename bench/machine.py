"""What every bench prints first: the machine and the versions it measured."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _program(cmd: list[str]) -> str:
    if shutil.which(cmd[0]) is None:
        return "not found"
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "?"


def describe(title: str) -> None:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"== {title}")
    print(f"machine : {cpu_model()}; {os.cpu_count()} cores ({usable} usable); {platform.system()} "
          f"{platform.release()} {platform.machine()}")
    print(f"python  : {platform.python_implementation()} {platform.python_version()}")
    libs = ["lxml", "xmlsec", "cryptography", "pysaml2", "flask", "gunicorn", "redis", "requests"]
    print("libs    : " + ", ".join(f"{d} {_version(d)}" for d in libs))
    try:
        import xmlsec
        from cryptography.hazmat.backends.openssl import backend
        print(f"native  : libxmlsec1 {'.'.join(map(str, xmlsec.get_libxmlsec_version()))} (in the xmlsec wheel), "
              f"libxml2 {'.'.join(map(str, xmlsec.get_libxml_version()))}; cryptography's "
              f"{backend.openssl_version_text()}")
    except Exception as exc:  # informational only
        print(f"native  : ? ({exc})")
    print(f"programs: {_program(['xmlsec1', '--version'])}; {_program(['redis-server', '--version'])}")
    print()
