/* The C interface, from C. */
#include "gridlib/gridlib.h"

#include <stdio.h>

static int failures = 0;

#define CHECK(expr)                                                           \
    do {                                                                      \
        if (!(expr)) {                                                        \
            ++failures;                                                       \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #expr); \
        }                                                                     \
    } while (0)

int main(void) {
    const long std_value = gridlib_standard();
    const int year = gridlib_standard_year();
    printf("gridlib built as C++%d (%ldL)\n", year, std_value);

    CHECK(std_value >= 201103L);
    CHECK(year == 11 || year == 14 || year == 17 || year == 20 || year == 23 || year == 26);

    CHECK(gridlib_popcount64(0) == 0);
    CHECK(gridlib_popcount64(0x5555) == 8);
    CHECK(gridlib_popcount64(UINT64_MAX) == 64);

    CHECK(gridlib_life_population("..#..\n..#..\n..#..\n", 0) == 3);
    CHECK(gridlib_life_population(".....\n..#..\n..#..\n..#..\n.....\n", 7) == 3); /* blinker */
    CHECK(gridlib_life_population(".#....\n..#...\n###...\n......\n......\n......\n", 8) == 5);
    CHECK(gridlib_life_population("#\n", 1) == 0);
    CHECK(gridlib_life_population("#?\n", 1) == -1);
    CHECK(gridlib_life_population(NULL, 1) == -1);

    printf("test_c_api: %d failed\n", failures);
    return failures == 0 ? 0 : 1;
}
