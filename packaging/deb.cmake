# The Debian package (`cpack -G DEB` in the build directory). Library
# dependencies come from dpkg-shlibdeps (dpkg-dev); the lab and the suite's
# tools are Recommends: the daemons run without them.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME edgelab)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "edgelab maintainers <edgelab@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "STUN/TURN relay with A/V Edge behaviour, an emulated load balancer and a test lab")
set(CPACK_PACKAGE_DESCRIPTION
    "avedge relays media as a Lync/Skype for Business A/V Edge does (STUN, TURN,\nMS-TURN, MRAS); hlb is an emulated hardware load balancer; edgeprobe is\nthe STUN/TURN client the network-namespace lab and its scenarios use.")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS
    "iproute2, nftables, procps, tcpdump, openssl, mawk | gawk, util-linux, coreutils")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "coturn")
# /etc files are the administrator's: dpkg keeps their edits on upgrade.
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${CMAKE_CURRENT_SOURCE_DIR}/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Install with DESTDIR and prefix /usr, so /etc/edgelab lands in the package.
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_SET_DESTDIR ON)
include(CPack)
