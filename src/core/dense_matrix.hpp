// Minimal row-major dense matrix for host-side tables (grid transforms, Wigner D matrices).
// Engines copy data() into their own device arrays.
#pragma once

#include <cstddef>
#include <vector>

namespace facet {

struct DenseMatrix {
  int rows = 0;
  int cols = 0;
  std::vector<double> values;  // row-major: element (i, j) at i * cols + j

  DenseMatrix() = default;
  DenseMatrix(int n_rows, int n_cols)
      : rows(n_rows), cols(n_cols), values(static_cast<std::size_t>(n_rows) * n_cols, 0.0) {}

  double& operator()(int i, int j) { return values[static_cast<std::size_t>(i) * cols + j]; }
  double operator()(int i, int j) const { return values[static_cast<std::size_t>(i) * cols + j]; }
};

}  // namespace facet
