# Locates a LAMMPS build to compile the plugin and its tests against, and defines
#   facet_lammps_interface  INTERFACE target: LAMMPS headers, the same defines as LAMMPS, liblammps, MPI, Kokkos
#   FACET_LMP_EXECUTABLE    the `lmp` program of that build (used by the tests)
#   FACET_LAMMPS_HAS_KOKKOS whether that build has the KOKKOS package (then the /kk styles are built)
#
# Inputs (cache variables or environment variables of the same name):
#   LAMMPS_SOURCE_DIR  the `src` folder of the LAMMPS source tree (headers, incl. src/KOKKOS)
#   LAMMPS_BUILD_DIR   the LAMMPS CMake build folder holding liblammps.so, lmp and CMakeCache.txt
#   Kokkos_DIR         <prefix>/lib/cmake/Kokkos of the very Kokkos that LAMMPS was built with
# Works with LAMMPS 29Sep2021 and current releases; the build must be shared (-DBUILD_SHARED_LIBS=ON)
# and have the PLUGIN package.

foreach(var LAMMPS_SOURCE_DIR LAMMPS_BUILD_DIR)
  if(NOT ${var} AND DEFINED ENV{${var}})
    set(${var} "$ENV{${var}}")
  endif()
  set(${var} "${${var}}" CACHE PATH "See cmake/FacetLAMMPS.cmake")
  if(NOT ${var})
    message(FATAL_ERROR "${var} is not set: run scripts/setup-deps (it prints the values), "
                        "point it at your own LAMMPS, or configure with -DFACET_BUILD_PLUGIN=OFF")
  endif()
endforeach()
if(NOT EXISTS "${LAMMPS_SOURCE_DIR}/lammps.h")
  message(FATAL_ERROR "LAMMPS_SOURCE_DIR=${LAMMPS_SOURCE_DIR} has no lammps.h: it must name LAMMPS's src folder")
endif()
if(NOT EXISTS "${LAMMPS_BUILD_DIR}/CMakeCache.txt")
  message(FATAL_ERROR "LAMMPS_BUILD_DIR=${LAMMPS_BUILD_DIR} is not a LAMMPS CMake build folder (no CMakeCache.txt)")
endif()

# Mirror the options LAMMPS was configured with: the plugin must see the same class layouts.
load_cache("${LAMMPS_BUILD_DIR}" READ_WITH_PREFIX LMP_
  PKG_KOKKOS PKG_PLUGIN LAMMPS_SIZES LAMMPS_EXCEPTIONS BUILD_MPI BUILD_OMP BUILD_SHARED_LIBS)
if(NOT LMP_BUILD_SHARED_LIBS)
  message(FATAL_ERROR "LAMMPS in ${LAMMPS_BUILD_DIR} is not a shared library: reconfigure it with -DBUILD_SHARED_LIBS=ON")
endif()
if(NOT LMP_PKG_PLUGIN)
  message(FATAL_ERROR "LAMMPS in ${LAMMPS_BUILD_DIR} lacks the PLUGIN package: reconfigure it with -DPKG_PLUGIN=ON")
endif()

find_library(FACET_LAMMPS_LIBRARY NAMES lammps PATHS "${LAMMPS_BUILD_DIR}" NO_DEFAULT_PATH REQUIRED)
find_program(FACET_LMP_EXECUTABLE NAMES lmp PATHS "${LAMMPS_BUILD_DIR}" NO_DEFAULT_PATH REQUIRED)

add_library(facet_lammps_interface INTERFACE)
target_include_directories(facet_lammps_interface INTERFACE "${LAMMPS_SOURCE_DIR}")
if(NOT LMP_LAMMPS_SIZES)
  set(LMP_LAMMPS_SIZES smallbig)
endif()
string(TOUPPER "${LMP_LAMMPS_SIZES}" sizes)
target_compile_definitions(facet_lammps_interface INTERFACE LAMMPS_${sizes}
  OMPI_SKIP_MPICXX=1 MPICH_SKIP_MPICXX)  # else dlopen fails on MPI C++ symbols
if(LMP_LAMMPS_EXCEPTIONS)
  target_compile_definitions(facet_lammps_interface INTERFACE LAMMPS_EXCEPTIONS)
endif()
target_link_libraries(facet_lammps_interface INTERFACE "${FACET_LAMMPS_LIBRARY}")

if(LMP_BUILD_MPI)
  set(MPI_CXX_SKIP_MPICXX TRUE)
  find_package(MPI REQUIRED COMPONENTS CXX)
  target_link_libraries(facet_lammps_interface INTERFACE MPI::MPI_CXX)
  find_program(FACET_MPIEXEC NAMES mpirun mpiexec)
else()
  target_include_directories(facet_lammps_interface INTERFACE "${LAMMPS_SOURCE_DIR}/STUBS")
endif()
if(LMP_BUILD_OMP)
  find_package(OpenMP REQUIRED)
  target_link_libraries(facet_lammps_interface INTERFACE OpenMP::OpenMP_CXX)
endif()

# Probe the two API changes between LAMMPS 29Sep2021 and current releases (src/lammps/lammps_compat.h).
include(CheckCXXSourceCompiles)
set(CMAKE_REQUIRED_INCLUDES "${LAMMPS_SOURCE_DIR}")
if(LMP_BUILD_MPI)
  list(APPEND CMAKE_REQUIRED_INCLUDES ${MPI_CXX_INCLUDE_DIRS})
else()
  list(APPEND CMAKE_REQUIRED_INCLUDES "${LAMMPS_SOURCE_DIR}/STUBS")
endif()
set(CMAKE_REQUIRED_DEFINITIONS -DLAMMPS_${sizes} -DOMPI_SKIP_MPICXX=1 -DMPICH_SKIP_MPICXX)
set(CMAKE_REQUIRED_FLAGS -std=c++17)
string(MD5 lammps_tag "${LAMMPS_SOURCE_DIR}")  # re-probe when pointed at another LAMMPS
check_cxx_source_compiles([[
#include "neighbor.h"
int main() { return LAMMPS_NS::NeighConst::REQ_FULL; }
]] FACET_LAMMPS_NEIGHCONST_${lammps_tag})
check_cxx_source_compiles([[
#include "comm.h"
#include "pair.h"
void exchange(LAMMPS_NS::Comm* c, LAMMPS_NS::Pair* p) { c->forward_comm_pair(p); }
int main() { return 0; }
]] FACET_LAMMPS_COMM_PAIR_${lammps_tag})
unset(CMAKE_REQUIRED_INCLUDES)
unset(CMAKE_REQUIRED_DEFINITIONS)
unset(CMAKE_REQUIRED_FLAGS)
if(FACET_LAMMPS_NEIGHCONST_${lammps_tag})
  target_compile_definitions(facet_lammps_interface INTERFACE FACET_LAMMPS_NEIGHCONST)
endif()
if(FACET_LAMMPS_COMM_PAIR_${lammps_tag})
  target_compile_definitions(facet_lammps_interface INTERFACE FACET_LAMMPS_COMM_PAIR)
endif()

set(FACET_LAMMPS_HAS_KOKKOS ${LMP_PKG_KOKKOS})
if(FACET_LAMMPS_HAS_KOKKOS)
  find_package(Kokkos REQUIRED)
  target_include_directories(facet_lammps_interface INTERFACE "${LAMMPS_SOURCE_DIR}/KOKKOS")
  target_compile_definitions(facet_lammps_interface INTERFACE LMP_KOKKOS)
  target_link_libraries(facet_lammps_interface INTERFACE Kokkos::kokkos)
  # The Kokkos pair-communication hooks changed after 29Sep2021: send lists became 1-D (with reverse
  # hooks added), and buffers became tdual_double_1d in the 10Sep2025 release. Read which from the header.
  file(READ "${LAMMPS_SOURCE_DIR}/KOKKOS/kokkos_base.h" kokkos_base_h)
  if(kokkos_base_h MATCHES "pack_forward_comm_kokkos\\(int, *DAT::tdual_int_1d")
    target_compile_definitions(facet_lammps_interface INTERFACE FACET_LAMMPS_KOKKOS_COMM_1D)
  endif()
  if(kokkos_base_h MATCHES "unpack_forward_comm_kokkos\\(int, *int, *DAT::tdual_double_1d")
    target_compile_definitions(facet_lammps_interface INTERFACE FACET_LAMMPS_KOKKOS_DOUBLE_BUFFER)
  endif()
  # The same release (single/mixed precision KOKKOS) replaced the per-atom energy/virial dual views
  # (tdual_efloat_1d, tdual_virial_array) by TransformViews (ttransform_kkacc_1d, ttransform_kkacc_1d_6).
  file(READ "${LAMMPS_SOURCE_DIR}/KOKKOS/kokkos_type.h" kokkos_type_h)
  if(kokkos_type_h MATCHES "ttransform_kkacc_1d_6;")
    target_compile_definitions(facet_lammps_interface INTERFACE FACET_LAMMPS_KOKKOS_TRANSFORM_VIEW)
  endif()
  message(STATUS "facet-lammps: LAMMPS ${LAMMPS_BUILD_DIR} with KOKKOS (Kokkos ${Kokkos_VERSION}, devices: ${Kokkos_DEVICES})")
else()
  message(STATUS "facet-lammps: LAMMPS ${LAMMPS_BUILD_DIR} without KOKKOS: only the plain pair style is built")
endif()
