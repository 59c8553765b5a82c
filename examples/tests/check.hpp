// A hand-rolled check macro: each failed CHECK prints where and why; main returns
// check_report(), which is nonzero when any check failed.
#ifndef GRIDLIB_TESTS_CHECK_HPP
#define GRIDLIB_TESTS_CHECK_HPP

#include <cstdio>

namespace check_detail {
inline int& failures() {
    static int n = 0;
    return n;
}
inline int& total() {
    static int n = 0;
    return n;
}
inline void record(bool ok, const char* expr, const char* file, int line) {
    ++total();
    if (!ok) {
        ++failures();
        std::fprintf(stderr, "%s:%d: check failed: %s\n", file, line, expr);
    }
}
}  // namespace check_detail

#define CHECK(expr) ::check_detail::record(static_cast<bool>(expr), #expr, __FILE__, __LINE__)

#define CHECK_THROWS(expr, exception_type)                                             \
    do {                                                                               \
        bool check_threw_ = false;                                                     \
        try {                                                                          \
            (void)(expr);                                                              \
        } catch (const exception_type&) {                                              \
            check_threw_ = true;                                                       \
        }                                                                              \
        ::check_detail::record(check_threw_, #expr " throws " #exception_type, __FILE__, \
                               __LINE__);                                              \
    } while (0)

inline int check_report(const char* suite) {
    std::printf("%s: %d checks, %d failed\n", suite, ::check_detail::total(),
                ::check_detail::failures());
    return ::check_detail::failures() == 0 ? 0 : 1;
}

#endif  // GRIDLIB_TESTS_CHECK_HPP
