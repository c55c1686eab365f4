# Install rules: headers, static libraries, the CMake package gprofid (find_package(gprofid CONFIG)
# -> gprofid::gprofid) and a pkg-config file gprofid.pc. Only the libraries a recorded program
# links are installed: vocabulary, runtime, recording, recorder.
include(CMakePackageConfigHelpers)
set(GPROFID_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/gprofid)

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

function(gprofid_install_package)
  if(NOT GPROFID_INSTALL)
    return()
  endif()
  install(EXPORT gprofid_targets NAMESPACE gprofid:: DESTINATION ${GPROFID_INSTALL_CMAKEDIR}
          FILE gprofid-targets.cmake)
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
