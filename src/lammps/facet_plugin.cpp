// Registers the facet pair styles with LAMMPS when loaded by `plugin load`. Plugins do not see LAMMPS's
// PairStyle() macros, so the Kokkos variants that `-sf kk` looks up are registered by name here.
#include "lammpsplugin.h"
#include "version.h"

#include "pair_facet.h"
#ifdef LMP_KOKKOS
#include "pair_facet_kokkos.h"
#endif

using namespace LAMMPS_NS;

namespace {

template <class Style>
Pair* create(LAMMPS* lmp) {
  return new Style(lmp);
}

void register_pair(lammpsplugin_regfunc register_plugin, void* lmp, void* handle, const char* name,
                   lammpsplugin_factory1* creator, const char* info) {
  lammpsplugin_t plugin;
  plugin.version = LAMMPS_VERSION;
  plugin.style = "pair";
  plugin.name = name;
  plugin.info = info;
  plugin.author = "facet-lammps developers";
  plugin.creator.v1 = creator;
  plugin.handle = handle;
  (*register_plugin)(&plugin, lmp);
}

}  // namespace

extern "C" void lammpsplugin_init(void* lmp, void* handle, void* regfunc) {
  auto register_plugin = reinterpret_cast<lammpsplugin_regfunc>(regfunc);
  const char* info = "facet equivariant machine-learned potential (spline radial functions, spherical-grid MLP)";
  register_pair(register_plugin, lmp, handle, "facet", reinterpret_cast<lammpsplugin_factory1*>(&create<PairFacet>),
                info);
#ifdef LMP_KOKKOS
  auto* on_device = reinterpret_cast<lammpsplugin_factory1*>(&create<PairFacetKokkos<LMPDeviceType>>);
  auto* on_host = reinterpret_cast<lammpsplugin_factory1*>(&create<PairFacetKokkos<LMPHostType>>);
  register_pair(register_plugin, lmp, handle, "facet/kk", on_device, info);
  register_pair(register_plugin, lmp, handle, "facet/kk/device", on_device, info);
  register_pair(register_plugin, lmp, handle, "facet/kk/host", on_host, info);
#endif
}
