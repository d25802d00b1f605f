// pi_pybind.cpp — the pi kernel as a C++ extension (pybind11) that releases the GIL, so
// that plain Python threads calling it run in parallel. Built by `make programs` into ext/.
// The same counter-based samples as pi.py and scalelab's native kernel.
#include <cstdint>

#include <pybind11/pybind11.h>

static inline std::uint64_t hit(std::uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    std::uint64_t x = z >> 32, y = z & 0xFFFFFFFFull;
    return x * x <= ~(y * y);
}

static std::uint64_t count(std::uint64_t begin, std::uint64_t end, std::uint64_t base)
{
    pybind11::gil_scoped_release unlocked; // the point of this route
    std::uint64_t hits = 0;
    for (std::uint64_t i = begin; i < end; i++)
        hits += hit(base + i * 0x9E3779B97F4A7C15ull);
    return hits;
}

PYBIND11_MODULE(pi_pybind, m)
{
    m.doc() = "Monte Carlo pi hits over [begin, end), without the GIL";
    m.def("count", &count, "hits of samples [begin, end) from counter base");
}
