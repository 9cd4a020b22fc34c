// Training pictures with gnuplot: a data file and a .gp script per picture, then `gnuplot` makes the PNG.
// A missing or failing gnuplot gives a warning on `out`; the data files and scripts stay, training goes on.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "model/structure.hpp"
#include "torch/trainer.hpp"

namespace facet {

// learning_curve.{dat,gp,png} in `dir`: validation RMSEs against the epoch, log scale. False when no PNG.
bool plot_learning_curve(const std::string& dir, const std::vector<EpochRecord>& history, std::ostream& out);

// parity_{energy,forces,stress}.{dat,gp,png} in `dir` (stress only with stress labels): predicted against
// reference values of one frame set (`set_name` goes into the titles). False when a PNG is missing.
bool plot_parity(const std::string& dir, const std::vector<Structure>& predicted,
                 const std::vector<Structure>& reference, const std::string& set_name, std::ostream& out);

}  // namespace facet
