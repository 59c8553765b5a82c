#include "gridlib/gridlib.h"

#include "gridlib/gridlib.hpp"

#include <exception>
#include <string>

extern "C" {

long gridlib_standard(void) { return gridlib::standard(); }

int gridlib_standard_year(void) { return gridlib::standard_year(); }

unsigned gridlib_popcount64(uint64_t v) { return gridlib::popcount(v); }

long gridlib_life_population(const char* pattern, unsigned generations) {
    if (pattern == nullptr) return -1;
    try {
        gridlib::Grid g(0, 0);
        if (!gridlib::Grid::parse(std::string(pattern), g)) return -1;
        return static_cast<long>(g.advance(generations).population());
    } catch (const std::exception&) {
        return -1;
    }
}

}  // extern "C"
