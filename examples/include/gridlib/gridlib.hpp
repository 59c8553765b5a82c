// gridlib — a tiny Game of Life grid library whose code differs by C++ standard.
//
// The same sources build as C++11, 14, 17, 20 and 23. Newer standards add API
// (std::optional, std::span, a multidimensional operator[]) and switch the
// implementation to newer facilities (std::popcount, std::to_underlying,
// `if consteval`). Library features are detected with feature-test macros, so
// a compiler whose standard library lacks one still builds, with a fallback.
#ifndef GRIDLIB_GRIDLIB_HPP
#define GRIDLIB_GRIDLIB_HPP

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__has_include)
#  if __has_include(<version>)
#    include <version>
#  endif
#endif

// ---- Feature detection -----------------------------------------------------
#if __cplusplus >= 201703L
#  define GRIDLIB_HAS_OPTIONAL 1
#  include <optional>
#  include <string_view>
#endif
#if defined(__cpp_lib_span) && __cpp_lib_span >= 202002L
#  define GRIDLIB_HAS_SPAN 1
#  include <span>
#endif
#if defined(__cpp_lib_bitops) && __cpp_lib_bitops >= 201907L
#  define GRIDLIB_HAS_STD_POPCOUNT 1
#  include <bit>
#endif
#if defined(__cpp_concepts) && __cpp_concepts >= 201907L && defined(__cpp_lib_concepts)
#  define GRIDLIB_HAS_CONCEPTS 1
#  include <concepts>
#endif
#if defined(__cpp_lib_to_underlying) && __cpp_lib_to_underlying >= 202102L
#  define GRIDLIB_HAS_TO_UNDERLYING 1
#endif
#if defined(__cpp_multidimensional_subscript) && __cpp_multidimensional_subscript >= 202110L
#  define GRIDLIB_HAS_MD_SUBSCRIPT 1
#endif
#if defined(__cpp_if_consteval) && __cpp_if_consteval >= 202106L
#  define GRIDLIB_HAS_IF_CONSTEVAL 1
#endif

namespace gridlib {

// ---- Which standard was this built with? -----------------------------------

/// The value of __cplusplus when the library itself was compiled.
long standard() noexcept;

/// Maps a __cplusplus value to its standard's short year: 11, 14, 17, 20, 23 or 26.
constexpr int standard_year(long cplusplus) noexcept {
    return cplusplus > 202302L ? 26
         : cplusplus > 202002L ? 23
         : cplusplus > 201703L ? 20
         : cplusplus > 201402L ? 17
         : cplusplus > 201103L ? 14
         : 11;
}

/// standard_year(standard()).
int standard_year() noexcept;

/// Names of the optional features compiled into the library, e.g. "optional", "span".
std::vector<std::string> features();

// ---- Bits --------------------------------------------------------------------

/// Number of set bits; std::popcount where the standard library has it.
unsigned popcount(std::uint64_t v) noexcept;

/// A popcount usable in constant expressions, written for each standard.
#if defined(GRIDLIB_HAS_IF_CONSTEVAL)
constexpr unsigned constexpr_popcount(std::uint64_t v) noexcept {
    if consteval {
        unsigned n = 0;
        while (v != 0) {
            v &= v - 1;
            ++n;
        }
        return n;
    } else {
        return popcount(v);
    }
}
#elif defined(GRIDLIB_HAS_STD_POPCOUNT)
constexpr unsigned constexpr_popcount(std::uint64_t v) noexcept {
    return static_cast<unsigned>(std::popcount(v));
}
#elif __cplusplus >= 201402L
constexpr unsigned constexpr_popcount(std::uint64_t v) noexcept {
    unsigned n = 0;
    while (v != 0) {
        v &= v - 1;
        ++n;
    }
    return n;
}
#else
constexpr unsigned constexpr_popcount(std::uint64_t v) noexcept {
    return v == 0 ? 0u : 1u + constexpr_popcount(v & (v - 1));
}
#endif

// ---- Cells and grids ---------------------------------------------------------------

enum class Cell : std::uint8_t { dead = 0, alive = 1 };

/// 0 or 1.
constexpr int cell_value(Cell c) noexcept {
#if defined(GRIDLIB_HAS_TO_UNDERLYING)
    return std::to_underlying(c);
#else
    return static_cast<int>(static_cast<std::underlying_type<Cell>::type>(c));
#endif
}

/// A bounded width x height grid for Conway's Game of Life (cells past the edge are dead).
class Grid {
public:
    Grid(std::size_t width, std::size_t height);

    std::size_t width() const noexcept { return w_; }
    std::size_t height() const noexcept { return h_; }

    /// Throws std::out_of_range outside the grid.
    Cell get(std::size_t x, std::size_t y) const;
    void set(std::size_t x, std::size_t y, Cell c);
    bool alive(std::size_t x, std::size_t y) const { return get(x, y) == Cell::alive; }

    std::size_t population() const noexcept;
    std::size_t live_neighbours(std::size_t x, std::size_t y) const;

    /// The next generation (B3/S23).
    Grid step() const;
    /// `generations` steps.
    Grid advance(unsigned generations) const;

    /// Bit x set when (x, y) is alive; needs width <= 64.
    std::uint64_t row_mask(std::size_t y) const;

    /// Rows of '#' (alive) and '.' (dead), each ending in '\n'.
    std::string to_string() const;

    /// Parses rows of '#'/'O' (alive) and '.' (dead); all rows the same length.
    static bool parse(const std::string& text, Grid& out);

#if defined(GRIDLIB_HAS_OPTIONAL)
    static std::optional<Grid> from_string(std::string_view text);
    /// The first live cell in row-major order, as (x, y).
    std::optional<std::pair<std::size_t, std::size_t>> first_alive() const;
#endif

#if defined(GRIDLIB_HAS_SPAN)
    std::span<const Cell> row(std::size_t y) const;
#endif

#if defined(GRIDLIB_HAS_MD_SUBSCRIPT)
    Cell operator[](std::size_t x, std::size_t y) const { return get(x, y); }
#endif

    bool operator==(const Grid& other) const;
    bool operator!=(const Grid& other) const { return !(*this == other); }

private:
    std::size_t index(std::size_t x, std::size_t y) const;

    std::size_t w_;
    std::size_t h_;
    std::vector<Cell> cells_;
};

// ---- Generic helpers -----------------------------------------------------------------

#if defined(GRIDLIB_HAS_CONCEPTS)
template <class F>
concept CellVisitor = std::invocable<F&, std::size_t, std::size_t, Cell>;

template <CellVisitor F>
#else
template <class F>
#endif
void for_each_cell(const Grid& g, F&& visit) {
    for (std::size_t y = 0; y < g.height(); ++y)
        for (std::size_t x = 0; x < g.width(); ++x)
            visit(x, y, g.get(x, y));
}

#if __cplusplus >= 201703L
/// Text for a cell, a grid, a number or anything a std::string can be made from.
template <class T>
std::string to_text(const T& value) {
    if constexpr (std::is_same_v<T, Cell>)
        return value == Cell::alive ? "#" : ".";
    else if constexpr (std::is_same_v<T, Grid>)
        return value.to_string();
    else if constexpr (std::is_arithmetic_v<T>)
        return std::to_string(value);
    else
        return std::string(value);
}
#else
namespace detail {
template <class T>
std::string to_text_impl(const T& value, std::true_type /*arithmetic*/) {
    return std::to_string(value);
}
template <class T>
std::string to_text_impl(const T& value, std::false_type /*arithmetic*/) {
    return std::string(value);
}
}  // namespace detail

inline std::string to_text(Cell c) { return c == Cell::alive ? "#" : "."; }
inline std::string to_text(const Grid& g) { return g.to_string(); }
template <class T>
std::string to_text(const T& value) {
    return detail::to_text_impl(value, std::is_arithmetic<T>());
}
#endif

}  // namespace gridlib

#endif  // GRIDLIB_GRIDLIB_HPP
