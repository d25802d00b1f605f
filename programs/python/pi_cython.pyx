# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""pi_cython.pyx — the pi kernel in Cython, its loop an OpenMP prange (the GIL released).

Built by `make programs` (cython3, then the C compiler with -fopenmp) into ext/. The same
counter-based samples as pi.py and scalelab's native kernel, so the hit count is identical.
"""
from cython.parallel import prange
from libc.stdint cimport uint64_t

cdef uint64_t G = 0x9E3779B97F4A7C15ULL
cdef uint64_t M1 = 0xBF58476D1CE4E5B9ULL
cdef uint64_t M2 = 0x94D049BB133111EBULL


cdef inline uint64_t hit(uint64_t z) nogil:
    z = (z ^ (z >> 30)) * M1
    z = (z ^ (z >> 27)) * M2
    z = z ^ (z >> 31)
    cdef uint64_t x = z >> 32, y = z & 0xFFFFFFFFULL
    return 1 if x * x <= ~(y * y) else 0


def count(long long begin, long long end, uint64_t base, int threads):
    cdef uint64_t hits = 0
    cdef long long i
    for i in prange(begin, end, nogil=True, num_threads=threads, schedule="static"):
        hits += hit(base + <uint64_t>i * G)
    return hits
