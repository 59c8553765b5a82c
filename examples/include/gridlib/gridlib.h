/* gridlib's C interface: the same library, callable from C. */
#ifndef GRIDLIB_GRIDLIB_H
#define GRIDLIB_GRIDLIB_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* __cplusplus as seen when the library was compiled, e.g. 201703L. */
long gridlib_standard(void);

/* 11, 14, 17, 20 or 23. */
int gridlib_standard_year(void);

unsigned gridlib_popcount64(uint64_t v);

/* Runs `generations` steps of Life on `pattern` (rows of '#'/'.' separated by
   newlines) and returns the live population afterwards, or -1 when the pattern
   does not parse. */
long gridlib_life_population(const char *pattern, unsigned generations);

#ifdef __cplusplus
}
#endif

#endif /* GRIDLIB_GRIDLIB_H */
