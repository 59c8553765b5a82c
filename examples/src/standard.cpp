#include "gridlib/gridlib.hpp"

namespace gridlib {

long standard() noexcept { return __cplusplus; }

int standard_year() noexcept { return standard_year(standard()); }

std::vector<std::string> features() {
    std::vector<std::string> f;
#if __cplusplus >= 201402L
    f.push_back("relaxed-constexpr");
#endif
#if defined(GRIDLIB_HAS_OPTIONAL)
    f.push_back("optional");
#endif
#if defined(GRIDLIB_HAS_SPAN)
    f.push_back("span");
#endif
#if defined(GRIDLIB_HAS_STD_POPCOUNT)
    f.push_back("std-popcount");
#endif
#if defined(GRIDLIB_HAS_CONCEPTS)
    f.push_back("concepts");
#endif
#if defined(GRIDLIB_HAS_TO_UNDERLYING)
    f.push_back("to-underlying");
#endif
#if defined(GRIDLIB_HAS_MD_SUBSCRIPT)
    f.push_back("md-subscript");
#endif
#if defined(GRIDLIB_HAS_IF_CONSTEVAL)
    f.push_back("if-consteval");
#endif
    return f;
}

unsigned popcount(std::uint64_t v) noexcept {
#if defined(GRIDLIB_HAS_STD_POPCOUNT)
    return static_cast<unsigned>(std::popcount(v));
#else
    unsigned n = 0;
    while (v != 0) {
        v &= v - 1;
        ++n;
    }
    return n;
#endif
}

}  // namespace gridlib
