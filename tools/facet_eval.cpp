// facet-eval: a potential's energies, forces and stress on extended-XYZ frames, and their errors
// (docs/trainer.md); `facet-eval --rehash FILE` recomputes the checksum of a hand-edited potential.
#include <iostream>

#include "torch/trainer.hpp"

int main(int argc, char** argv) { return facet::eval_main({argv + 1, argv + argc}, std::cout, std::cerr); }
