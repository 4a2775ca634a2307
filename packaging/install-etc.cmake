# Run by `cmake --install` (packaging/CMakeLists.txt): the configuration
# in /etc (a /usr prefix, as Debian) or PREFIX/etc, and the systemd units
# pointing at the installed daemons and that configuration.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(EDGELAB_ETC /etc/edgelab)
else()
  set(EDGELAB_ETC ${CMAKE_INSTALL_PREFIX}/etc/edgelab)
endif()
set(EDGELAB_SBIN ${CMAKE_INSTALL_PREFIX}/${EDGELAB_SBINDIR})

file(INSTALL DESTINATION ${EDGELAB_ETC} TYPE FILE
     FILES ${EDGELAB_SRC}/packaging/examples/avedge.conf)
file(INSTALL DESTINATION ${EDGELAB_ETC} TYPE FILE RENAME hlb.conf
     FILES ${EDGELAB_SRC}/lb/conf/hlbext.conf)
# The user file holds passwords: root only (the unit hands it to avedge
# with LoadCredential).
file(INSTALL DESTINATION ${EDGELAB_ETC} TYPE FILE PERMISSIONS OWNER_READ OWNER_WRITE
     FILES ${EDGELAB_SRC}/packaging/examples/avedge.users)

set(tmp ${EDGELAB_UNITS_TMP})
foreach(unit avedge.service hlb.service)
  configure_file(${EDGELAB_SRC}/packaging/systemd/${unit}.in ${tmp}/${unit} @ONLY)
  file(INSTALL DESTINATION ${CMAKE_INSTALL_PREFIX}/lib/systemd/system TYPE FILE
       FILES ${tmp}/${unit})
endforeach()
