// The library and this test were compiled with the same C++ standard, and it is
// the one the build asked for.
#include "check.hpp"

#include "gridlib/gridlib.hpp"

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace {
bool has_feature(const std::vector<std::string>& features, const char* name) {
    return std::find(features.begin(), features.end(), std::string(name)) != features.end();
}
}  // namespace

int main() {
    const std::vector<std::string> features = gridlib::features();
    std::printf("test TU __cplusplus = %ldL, library built with %ldL (C++%d); features:",
                static_cast<long>(__cplusplus), gridlib::standard(), gridlib::standard_year());
    for (std::size_t i = 0; i < features.size(); ++i) std::printf(" %s", features[i].c_str());
    std::printf("\n");

    CHECK(gridlib::standard() == static_cast<long>(__cplusplus));
    CHECK(gridlib::standard_year() == gridlib::standard_year(__cplusplus));

#if defined(GRIDLIB_EXPECTED_STANDARD)
    // Set by CMakeLists.txt from CMAKE_CXX_STANDARD.
    std::printf("requested C++%d\n", GRIDLIB_EXPECTED_STANDARD);
    CHECK(gridlib::standard_year() == GRIDLIB_EXPECTED_STANDARD);
#endif

    static_assert(gridlib::standard_year(201103L) == 11, "C++11");
    static_assert(gridlib::standard_year(201402L) == 14, "C++14");
    static_assert(gridlib::standard_year(201703L) == 17, "C++17");
    static_assert(gridlib::standard_year(201709L) == 20, "gcc's early -std=c++2a");
    static_assert(gridlib::standard_year(202002L) == 20, "C++20");
    static_assert(gridlib::standard_year(202100L) == 23, "gcc's -std=c++2b");
    static_assert(gridlib::standard_year(202101L) == 23, "clang's -std=c++2b");
    static_assert(gridlib::standard_year(202302L) == 23, "C++23");
    static_assert(gridlib::standard_year(202400L) == 26, "C++26");

    // Every feature the header enables in this TU was compiled into the library, and back.
    CHECK(has_feature(features, "relaxed-constexpr") == (__cplusplus >= 201402L));
#if defined(GRIDLIB_HAS_OPTIONAL)
    CHECK(has_feature(features, "optional"));
#else
    CHECK(!has_feature(features, "optional"));
#endif
#if defined(GRIDLIB_HAS_SPAN)
    CHECK(has_feature(features, "span"));
#else
    CHECK(!has_feature(features, "span"));
#endif
#if defined(GRIDLIB_HAS_STD_POPCOUNT)
    CHECK(has_feature(features, "std-popcount"));
#else
    CHECK(!has_feature(features, "std-popcount"));
#endif
#if defined(GRIDLIB_HAS_CONCEPTS)
    CHECK(has_feature(features, "concepts"));
#else
    CHECK(!has_feature(features, "concepts"));
#endif
#if defined(GRIDLIB_HAS_TO_UNDERLYING)
    CHECK(has_feature(features, "to-underlying"));
#else
    CHECK(!has_feature(features, "to-underlying"));
#endif
#if defined(GRIDLIB_HAS_MD_SUBSCRIPT)
    CHECK(has_feature(features, "md-subscript"));
#else
    CHECK(!has_feature(features, "md-subscript"));
#endif
#if defined(GRIDLIB_HAS_IF_CONSTEVAL)
    CHECK(has_feature(features, "if-consteval"));
#else
    CHECK(!has_feature(features, "if-consteval"));
#endif

    // Features every compiler in the matrix has at these standards.
    if (__cplusplus >= 201703L) CHECK(has_feature(features, "optional"));
    if (__cplusplus >= 202002L) {
        CHECK(has_feature(features, "span"));
        CHECK(has_feature(features, "std-popcount"));
    }
    if (__cplusplus > 202002L) CHECK(has_feature(features, "to-underlying"));

    return check_report("test_standard");
}
