# Builds the libFuzzer targets of tests/fuzz with clang++ (an ExternalProject, since the rest of the project may
# use another compiler) and registers one CTest test per target that fuzzes for FACET_FUZZ_SECONDS, starting from
# the seed corpus tests/fuzz/corpus/<reader> and the crash reproducers tests/fuzz/regressions/<reader>.
#   FACET_BUILD_FUZZERS  AUTO (default): when a clang++ that links -fsanitize=fuzzer is found; ON: required; OFF
#   FACET_FUZZ_CXX       the clang++ to use (default: the first clang++ found)
#   FACET_FUZZ_SECONDS   fuzzing time per target in the test suite (default 60)
set(FACET_BUILD_FUZZERS AUTO CACHE STRING "Build and run the libFuzzer targets: AUTO (when clang++ has libFuzzer), ON or OFF")
set_property(CACHE FACET_BUILD_FUZZERS PROPERTY STRINGS AUTO ON OFF)
set(FACET_FUZZ_SECONDS 60 CACHE STRING "Seconds each fuzz target runs in the test suite")

if(FACET_BUILD_FUZZERS STREQUAL "OFF")
  return()
endif()

find_program(FACET_FUZZ_CXX NAMES clang++ clang++-19 clang++-18 clang++-17 clang++-16 clang++-15 clang++-14
             DOC "clang++ with libFuzzer, for the fuzz targets")
# Whether that compiler links a libFuzzer target: clang without its runtime package (Debian: libclang-rt-<N>-dev)
# compiles but fails to link. Probed once per compiler.
if(FACET_FUZZ_CXX AND NOT FACET_FUZZ_CXX_WORKS_FOR STREQUAL FACET_FUZZ_CXX)
  set(probe_dir "${CMAKE_BINARY_DIR}/fuzz-probe")
  file(WRITE "${probe_dir}/probe.cpp"
       "#include <cstddef>\n#include <cstdint>\nextern \"C\" int LLVMFuzzerTestOneInput(const uint8_t*, size_t) { return 0; }\n")
  execute_process(COMMAND "${FACET_FUZZ_CXX}" -fsanitize=fuzzer,address,undefined probe.cpp -o probe
                  WORKING_DIRECTORY "${probe_dir}" RESULT_VARIABLE probe_result OUTPUT_QUIET ERROR_QUIET)
  if(probe_result EQUAL 0)
    set(FACET_FUZZ_CXX_WORKS_FOR "${FACET_FUZZ_CXX}" CACHE INTERNAL "clang++ that links libFuzzer targets")
  endif()
endif()
if(NOT FACET_FUZZ_CXX OR NOT FACET_FUZZ_CXX_WORKS_FOR STREQUAL FACET_FUZZ_CXX)
  set(why "no clang++ that links -fsanitize=fuzzer (Debian: apt-get install clang libclang-rt-14-dev)")
  if(FACET_BUILD_FUZZERS STREQUAL "ON")
    message(FATAL_ERROR "FACET_BUILD_FUZZERS=ON but ${why}")
  endif()
  message(STATUS "Fuzz targets not built: ${why}")
  return()
endif()
message(STATUS "Fuzz targets: built with ${FACET_FUZZ_CXX}, ${FACET_FUZZ_SECONDS} s each in the test suite")

include(ExternalProject)
set(fuzz_dir "${CMAKE_BINARY_DIR}/fuzz")
ExternalProject_Add(facet_fuzzers
  SOURCE_DIR "${PROJECT_SOURCE_DIR}/tests/fuzz"
  BINARY_DIR "${fuzz_dir}"
  CMAKE_ARGS -DCMAKE_CXX_COMPILER=${FACET_FUZZ_CXX}
  BUILD_ALWAYS ON  # the sub-build is incremental; this only makes it look at the reader sources again
  INSTALL_COMMAND "")

math(EXPR fuzz_timeout "${FACET_FUZZ_SECONDS} + 300")  # start-up and the corpus replay on top of the fuzzing
foreach(reader potential extxyz)
  # The first corpus folder, in the build tree, collects what the runs discover; the source folders are only read.
  # -timeout flags an input that takes more than 10 s (a hang); libFuzzer's memory limit flags a blow-up.
  add_test(NAME fuzz_${reader}
    COMMAND "${fuzz_dir}/fuzz_${reader}" -max_total_time=${FACET_FUZZ_SECONDS} -timeout=10 -print_final_stats=1
            -create_missing_dirs=1 -artifact_prefix=${fuzz_dir}/artifacts/${reader}-
            -dict=${PROJECT_SOURCE_DIR}/tests/fuzz/${reader}.dict
            "${fuzz_dir}/corpus/${reader}" "${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/${reader}"
            "${PROJECT_SOURCE_DIR}/tests/fuzz/regressions/${reader}")
  set_tests_properties(fuzz_${reader} PROPERTIES LABELS fuzz TIMEOUT ${fuzz_timeout})
endforeach()
