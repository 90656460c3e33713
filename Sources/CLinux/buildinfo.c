#include "buildinfo.h"

/* MKOSI_COMMIT is defined by Package.swift when the build environment names the commit (the
 * Makefile and scripts/deb do); a plain `swift build` leaves it out. */
#ifdef MKOSI_COMMIT
const char *mkosi_build_commit(void) { return MKOSI_COMMIT; }
#else
const char *mkosi_build_commit(void) { return ""; }
#endif
