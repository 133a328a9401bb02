"""`kcity` caps malloc arenas (kcity/malloc.py): threads that allocate share one per core
instead of getting their own (the memory a nightly keeps after loading)."""

import subprocess
import sys
import textwrap

import pytest

ARENAS = textwrap.dedent("""
    import ctypes, sys, tempfile, threading
    from kcity.malloc import limit_arenas
    if sys.argv[1] == "limit":
        assert limit_arenas()
    keep, start = [], threading.Barrier(8)
    def allocate():
        start.wait()
        keep.append([bytearray(4096) for _ in range(100)])  # malloc'd, not pymalloc
    threads = [threading.Thread(target=allocate) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    libc = ctypes.CDLL("libc.so.6")
    libc.fopen.restype = ctypes.c_void_p
    with tempfile.NamedTemporaryFile(suffix=".xml") as out:
        fp = libc.fopen(out.name.encode(), b"w")
        libc.malloc_info(0, ctypes.c_void_p(fp))
        libc.fclose(ctypes.c_void_p(fp))
        print(open(out.name).read().count("<heap nr="))
""")


def arenas(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", ARENAS, mode], capture_output=True, text=True, check=True)
    return int(done.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_threads_share_two_malloc_arenas_once_limited():
    assert arenas("default") > 2  # eight threads allocating: arenas of their own
    assert arenas("limit") <= 2
