// Behaviour of the grid and bit functions, including the API that only some standards have.
#include "check.hpp"

#include "gridlib/gridlib.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>

using gridlib::Cell;
using gridlib::Grid;

namespace {

Grid must_parse(const std::string& text) {
    Grid g(0, 0);
    const bool ok = Grid::parse(text, g);
    CHECK(ok);
    return g;
}

void test_popcount() {
    CHECK(gridlib::popcount(0) == 0);
    CHECK(gridlib::popcount(1) == 1);
    CHECK(gridlib::popcount(0xFF) == 8);
    CHECK(gridlib::popcount(0x8000000000000001ULL) == 2);
    CHECK(gridlib::popcount(~std::uint64_t{0}) == 64);

    static_assert(gridlib::constexpr_popcount(0) == 0, "constexpr popcount of 0");
    static_assert(gridlib::constexpr_popcount(0xF0F0) == 8, "constexpr popcount of 0xF0F0");
    static_assert(gridlib::constexpr_popcount(~std::uint64_t{0}) == 64, "constexpr popcount of ~0");

    // The runtime path (popcount() under `if consteval`) agrees with the loop.
    volatile std::uint64_t v = 0x0123456789ABCDEFULL;
    CHECK(gridlib::constexpr_popcount(v) == 32);
    CHECK(gridlib::constexpr_popcount(v) == gridlib::popcount(v));
}

void test_cells() {
    static_assert(gridlib::cell_value(Cell::dead) == 0, "dead is 0");
    static_assert(gridlib::cell_value(Cell::alive) == 1, "alive is 1");
    CHECK(gridlib::to_text(Cell::alive) == "#");
    CHECK(gridlib::to_text(Cell::dead) == ".");
    CHECK(gridlib::to_text(42) == "42");
    CHECK(gridlib::to_text(std::string("gridlib")) == "gridlib");
}

void test_basics() {
    Grid g(4, 3);
    CHECK(g.width() == 4);
    CHECK(g.height() == 3);
    CHECK(g.population() == 0);
    g.set(0, 0, Cell::alive);
    g.set(3, 2, Cell::alive);
    CHECK(g.alive(0, 0));
    CHECK(!g.alive(1, 0));
    CHECK(g.get(3, 2) == Cell::alive);
    CHECK(g.population() == 2);
    CHECK(g.to_string() == "#...\n....\n...#\n");
    CHECK(g.row_mask(0) == 0x1);
    CHECK(g.row_mask(2) == 0x8);
    CHECK_THROWS(g.get(4, 0), std::out_of_range);
    CHECK_THROWS(g.set(0, 3, Cell::alive), std::out_of_range);
    CHECK_THROWS(g.row_mask(3), std::out_of_range);
    CHECK_THROWS(Grid(65, 1).row_mask(0), std::length_error);
    CHECK(gridlib::to_text(g) == g.to_string());

    std::size_t visited = 0, alive = 0;
    gridlib::for_each_cell(g, [&](std::size_t x, std::size_t y, Cell c) {
        ++visited;
        if (c == Cell::alive) {
            ++alive;
            CHECK(g.alive(x, y));
        }
    });
    CHECK(visited == 12);
    CHECK(alive == 2);
}

void test_parse() {
    Grid g = must_parse(".#.\n.#.\n.#.\n");
    CHECK(g.width() == 3 && g.height() == 3);
    CHECK(g.population() == 3);
    CHECK(g.to_string() == ".#.\n.#.\n.#.\n");
    CHECK(must_parse("O.\r\n.O") == must_parse("#.\n.#\n"));  // 'O', CRLF, no final newline

    Grid untouched(2, 2);
    CHECK(!Grid::parse("", untouched));
    CHECK(!Grid::parse("##\n#\n", untouched));  // ragged
    CHECK(!Grid::parse("#x\n", untouched));     // bad character
    CHECK(untouched == Grid(2, 2));
}

void test_life() {
    // Neighbour counting at the corners, edges and middle.
    const Grid full = must_parse("###\n###\n###\n");
    CHECK(full.live_neighbours(0, 0) == 3);
    CHECK(full.live_neighbours(1, 0) == 5);
    CHECK(full.live_neighbours(1, 1) == 8);
    CHECK(full.live_neighbours(2, 2) == 3);
    CHECK_THROWS(full.live_neighbours(3, 0), std::out_of_range);

    // Block: a still life.
    const Grid block = must_parse("....\n.##.\n.##.\n....\n");
    CHECK(block.step() == block);

    // Blinker: period 2.
    const Grid blinker = must_parse(".....\n..#..\n..#..\n..#..\n.....\n");
    const Grid blinker1 = blinker.step();
    CHECK(blinker1 == must_parse(".....\n.....\n.###.\n.....\n....."));
    CHECK(blinker1 != blinker);
    CHECK(blinker.advance(2) == blinker);
    CHECK(blinker1.row_mask(2) == 0xE);

    // Glider: after 4 generations, the same shape one cell down and right.
    const Grid glider = must_parse(".#....\n..#...\n###...\n......\n......\n......\n");
    const Grid moved = must_parse("......\n..#...\n...#..\n.###..\n......\n......\n");
    CHECK(glider.advance(4) == moved);
    CHECK(glider.advance(4).population() == 5);

    // A lone cell dies.
    CHECK(must_parse("...\n.#.\n...\n").step().population() == 0);
}

void test_modern_api() {
#if defined(GRIDLIB_HAS_OPTIONAL)
    // C++17: std::optional, std::string_view, structured bindings.
    const std::optional<Grid> g = Grid::from_string("...\n..#\n#..\n");
    CHECK(g.has_value());
    CHECK(!Grid::from_string("#\n##\n").has_value());
    if (g) {
        CHECK(g->population() == 2);
        const auto first = g->first_alive();
        CHECK(first.has_value());
        if (first) {
            const auto [x, y] = *first;
            CHECK(x == 2 && y == 1);
        }
    }
    CHECK(!Grid(3, 3).first_alive().has_value());
#endif

#if defined(GRIDLIB_HAS_SPAN)
    // C++20: std::span over a row.
    const Grid h = must_parse("#.#\n.#.\n");
    const std::span<const Cell> r0 = h.row(0);
    CHECK(r0.size() == 3);
    CHECK(r0[0] == Cell::alive && r0[1] == Cell::dead && r0[2] == Cell::alive);
    CHECK(h.row(1)[1] == Cell::alive);
    CHECK_THROWS(h.row(2), std::out_of_range);
#endif

#if defined(GRIDLIB_HAS_MD_SUBSCRIPT)
    // C++23: grid[x, y].
    const Grid m = must_parse(".#\n#.\n");
    CHECK((m[1, 0] == Cell::alive));
    CHECK((m[0, 0] == Cell::dead));
    CHECK((m[0, 1] == Cell::alive));
#endif
}

}  // namespace

int main() {
    test_popcount();
    test_cells();
    test_basics();
    test_parse();
    test_life();
    test_modern_api();
    return check_report("test_grid");
}
