# Install rules: headers, static libraries, the CMake package gprofid (find_package(gprofid CONFIG)
# -> gprofid::gprofid, and with COMPONENTS http gprofid::gprofid_http) and a pkg-config file
# gprofid.pc. Only the libraries a recorded program links are installed: vocabulary, runtime,
# recording, recorder, and the HTTP transport (its plugin in LIBDIR/gprofid).
include(CMakePackageConfigHelpers)
set(GPROFID_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/gprofid)
set(GPROFID_PLUGIN_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/gprofid)

# gprofid_install(target [include_dir ...]): installs the target and the headers under each dir.
function(gprofid_install target)
  if(NOT GPROFID_INSTALL)
    return()
  endif()
  install(TARGETS ${target} EXPORT gprofid_targets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  foreach(dir ${ARGN})
    install(DIRECTORY ${dir}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.hpp")
  endforeach()
endfunction()

# gprofid_install_http(PLUGIN_TARGET target... include_dir): the plugin into LIBDIR/gprofid, the
# targets into their own export set, which the package config loads only when cpp-httplib is
# found (a consumer without it still gets gprofid::gprofid, and HTTP through the plugin).
function(gprofid_install_http plugin)
  if(NOT GPROFID_INSTALL)
    return()
  endif()
  set(targets ${ARGN})
  list(POP_BACK targets include_dir)
  install(TARGETS ${plugin} LIBRARY DESTINATION ${GPROFID_PLUGIN_INSTALL_DIR})
  install(TARGETS ${targets} EXPORT gprofid_http_targets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(DIRECTORY ${include_dir}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.hpp")
  set_property(GLOBAL PROPERTY GPROFID_HTTP_INSTALLED ON)
endfunction()

function(gprofid_install_package)
  if(NOT GPROFID_INSTALL)
    return()
  endif()
  install(EXPORT gprofid_targets NAMESPACE gprofid:: DESTINATION ${GPROFID_INSTALL_CMAKEDIR}
          FILE gprofid-targets.cmake)
  get_property(http GLOBAL PROPERTY GPROFID_HTTP_INSTALLED)
  set(GPROFID_PC_RPATH "")
  if(http)
    install(EXPORT gprofid_http_targets NAMESPACE gprofid:: DESTINATION ${GPROFID_INSTALL_CMAKEDIR}
            FILE gprofid-http-targets.cmake)
    # Where a program's dlopen finds the HTTP plugin (gprofid.pc's Libs).
    set(GPROFID_PC_RPATH " -Wl,-rpath,\${libdir}/gprofid")
  endif()
  configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/gprofid-config.cmake.in
                                ${PROJECT_BINARY_DIR}/gprofid-config.cmake
                                INSTALL_DESTINATION ${GPROFID_INSTALL_CMAKEDIR})
  write_basic_package_version_file(${PROJECT_BINARY_DIR}/gprofid-config-version.cmake
                                   COMPATIBILITY SameMinorVersion)
  install(FILES ${PROJECT_BINARY_DIR}/gprofid-config.cmake
                ${PROJECT_BINARY_DIR}/gprofid-config-version.cmake
          DESTINATION ${GPROFID_INSTALL_CMAKEDIR})
  configure_file(${PROJECT_SOURCE_DIR}/cmake/gprofid.pc.in ${PROJECT_BINARY_DIR}/gprofid.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/gprofid.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endfunction()
