#include "gridlib/gridlib.hpp"

#include <stdexcept>

namespace gridlib {

Grid::Grid(std::size_t width, std::size_t height)
    : w_(width), h_(height), cells_(width * height, Cell::dead) {}

std::size_t Grid::index(std::size_t x, std::size_t y) const {
    if (x >= w_ || y >= h_) throw std::out_of_range("gridlib::Grid: coordinate outside the grid");
    return y * w_ + x;
}

Cell Grid::get(std::size_t x, std::size_t y) const { return cells_[index(x, y)]; }

void Grid::set(std::size_t x, std::size_t y, Cell c) { cells_[index(x, y)] = c; }

std::size_t Grid::population() const noexcept {
    std::size_t n = 0;
    for (Cell c : cells_) n += static_cast<std::size_t>(cell_value(c));
    return n;
}

std::size_t Grid::live_neighbours(std::size_t x, std::size_t y) const {
    (void)index(x, y);  // validates the coordinate
    std::size_t n = 0;
    for (std::size_t dy = 0; dy < 3; ++dy) {
        for (std::size_t dx = 0; dx < 3; ++dx) {
            if (dx == 1 && dy == 1) continue;
            if (x + dx < 1 || y + dy < 1) continue;  // left of column 0 / above row 0
            const std::size_t nx = x + dx - 1;
            const std::size_t ny = y + dy - 1;
            if (nx >= w_ || ny >= h_) continue;
            if (cells_[ny * w_ + nx] == Cell::alive) ++n;
        }
    }
    return n;
}

Grid Grid::step() const {
    Grid next(w_, h_);
    for (std::size_t y = 0; y < h_; ++y) {
        for (std::size_t x = 0; x < w_; ++x) {
            const std::size_t n = live_neighbours(x, y);
            const bool was_alive = cells_[y * w_ + x] == Cell::alive;
            if (n == 3 || (was_alive && n == 2)) next.cells_[y * w_ + x] = Cell::alive;
        }
    }
    return next;
}

Grid Grid::advance(unsigned generations) const {
    Grid g = *this;
    for (unsigned i = 0; i < generations; ++i) g = g.step();
    return g;
}

std::uint64_t Grid::row_mask(std::size_t y) const {
    if (w_ > 64) throw std::length_error("gridlib::Grid::row_mask: grid wider than 64 cells");
    if (y >= h_) throw std::out_of_range("gridlib::Grid::row_mask: row outside the grid");
    std::uint64_t mask = 0;
    for (std::size_t x = 0; x < w_; ++x)
        if (cells_[y * w_ + x] == Cell::alive) mask |= std::uint64_t{1} << x;
    return mask;
}

std::string Grid::to_string() const {
    std::string out;
    out.reserve((w_ + 1) * h_);
    for (std::size_t y = 0; y < h_; ++y) {
        for (std::size_t x = 0; x < w_; ++x) out += cells_[y * w_ + x] == Cell::alive ? '#' : '.';
        out += '\n';
    }
    return out;
}

bool Grid::parse(const std::string& text, Grid& out) {
    std::vector<std::string> rows;
    std::string current;
    for (char ch : text) {
        if (ch == '\n') {
            rows.push_back(current);
            current.clear();
        } else if (ch != '\r') {
            current += ch;
        }
    }
    if (!current.empty()) rows.push_back(current);
    if (rows.empty() || rows.front().empty()) return false;

    Grid g(rows.front().size(), rows.size());
    for (std::size_t y = 0; y < rows.size(); ++y) {
        if (rows[y].size() != g.w_) return false;
        for (std::size_t x = 0; x < g.w_; ++x) {
            const char ch = rows[y][x];
            if (ch == '#' || ch == 'O')
                g.cells_[y * g.w_ + x] = Cell::alive;
            else if (ch != '.')
                return false;
        }
    }
    out = g;
    return true;
}

bool Grid::operator==(const Grid& other) const {
    return w_ == other.w_ && h_ == other.h_ && cells_ == other.cells_;
}

#if defined(GRIDLIB_HAS_OPTIONAL)
std::optional<Grid> Grid::from_string(std::string_view text) {
    Grid g(0, 0);
    if (!parse(std::string(text), g)) return std::nullopt;
    return g;
}

std::optional<std::pair<std::size_t, std::size_t>> Grid::first_alive() const {
    for (std::size_t i = 0; i < cells_.size(); ++i)
        if (cells_[i] == Cell::alive) return std::pair{i % w_, i / w_};
    return std::nullopt;
}
#endif

#if defined(GRIDLIB_HAS_SPAN)
std::span<const Cell> Grid::row(std::size_t y) const {
    if (y >= h_) throw std::out_of_range("gridlib::Grid::row: row outside the grid");
    return std::span<const Cell>(cells_).subspan(y * w_, w_);
}
#endif

}  // namespace gridlib
