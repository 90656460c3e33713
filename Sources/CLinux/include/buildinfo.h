#ifndef MKOSI_BUILDINFO_H
#define MKOSI_BUILDINFO_H

/* The source commit this binary was built from (abbreviated hash, "-dirty" when the work tree had
 * uncommitted changes), or "" when the build was not told (a plain `swift build`). */
const char *mkosi_build_commit(void);

#endif
