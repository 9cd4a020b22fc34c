// facet-train: fits a facet potential to extended-XYZ data (docs/trainer.md).
#include <iostream>

#include "torch/trainer.hpp"

int main(int argc, char** argv) { return facet::train_main({argv + 1, argv + argc}, std::cout, std::cerr); }
