// Registers the facet pair styles with LAMMPS when loaded by `plugin load`.
#include "lammpsplugin.h"
#include "version.h"

#include "pair_facet.h"

using namespace LAMMPS_NS;

static Pair* facet_creator(LAMMPS* lmp) { return new PairFacet(lmp); }

extern "C" void lammpsplugin_init(void* lmp, void* handle, void* regfunc) {
  auto register_plugin = reinterpret_cast<lammpsplugin_regfunc>(regfunc);
  lammpsplugin_t plugin;
  plugin.version = LAMMPS_VERSION;
  plugin.style = "pair";
  plugin.name = "facet";
  plugin.info = "facet equivariant machine-learned potential (spline radial functions, spherical-grid MLP)";
  plugin.author = "facet-lammps developers";
  plugin.creator.v1 = reinterpret_cast<lammpsplugin_factory1*>(&facet_creator);
  plugin.handle = handle;
  (*register_plugin)(&plugin, lmp);
}
