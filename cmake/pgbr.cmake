# Helpers every folder's CMakeLists.txt uses, so targets are declared one way.

# pgbr_library(<name> SOURCES <files...> DEPS <targets...>)
# A static library whose headers are included as "<folder>/<file>.h" from the project root.
function(pgbr_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()

# pgbr_tests(<name> SOURCES <files...> DEPS <targets...> [LABELS <labels...>] [TIMEOUT <s>])
# A doctest executable; each TEST_CASE becomes one ctest test, labelled LABELS ("unit" when
# none is given; end-to-end scenarios use "integration", long ones add "slow").
function(pgbr_tests name)
  if(NOT PGBR_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/test-bin)
  target_link_libraries(${name} PRIVATE pgbr_doctest_main ${ARG_DEPS})
  # Where the binaries and sources are, compiled in (a ctest ENVIRONMENT list would be split
  # at its ';' by doctest_discover_tests).
  target_compile_definitions(${name} PRIVATE PGBR_TEST_BIN_DIR="${CMAKE_BINARY_DIR}/bin"
                                             PGBR_TEST_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  doctest_discover_tests(${name}
    TEST_PREFIX "${name}: "
    PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT})
endfunction()
