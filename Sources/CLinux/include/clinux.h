#ifndef MKOSI_CLINUX_H
#define MKOSI_CLINUX_H

#include <sys/types.h>

/* What Swift's Glibc module does not export: unshare(), the CLONE_* flags, pivot_root(),
 * PR_SET_PDEATHSIG and signal handling that only sets a flag. */

extern const int MKOSI_CLONE_NEWNS;
extern const int MKOSI_CLONE_NEWUSER;
extern const int MKOSI_CLONE_NEWIPC;

int mkosi_unshare(int flags);
int mkosi_pivot_root(const char *new_root, const char *put_old);
/* Moves the calling process into a new user namespace whose ID maps are written from outside by
 * the setuid helpers `newuidmap` and `newgidmap` (argument vectors `uidmap` and `gidmap`, NULL-
 * terminated, program path first; the target PID is inserted as their first argument), then
 * becomes root in it (setresuid/setresgid 0; supplementary groups are kept, so that group access
 * such as /dev/kvm still works). The process must have one thread. Returns 0; -1 with errno set
 * when unsharing or changing IDs fails; or the exit status (>0) of the first helper that failed,
 * with the namespace then left unusable (the caller must exit). */
int mkosi_become_root_in_user_namespace(char *const uidmap[], char *const gidmap[]);
/* Moves the process into a new network namespace and brings its loopback interface up, so
 * that 127.0.0.1 works and nothing else is reachable. 0 on success, -1 with errno set. */
int mkosi_unshare_network(void);
/* 1 when `path` lies on a tmpfs or ramfs, 0 when it does not, -1 with errno set when statfs()
 * fails. */
int mkosi_is_on_tmpfs(const char *path);
/* 1 when `path` lies on btrfs, 0 when it does not, -1 with errno set when statfs() fails. */
int mkosi_is_on_btrfs(const char *path);
/* Creates the btrfs subvolume `path` (absolute; its parent exists on btrfs). 0, or -1 with errno. */
int mkosi_btrfs_subvolume_create(const char *path);
/* Snapshots the btrfs subvolume `source` as `target` (absolute, not existing, on the same file
 * system). 0, or -1 with errno. */
int mkosi_btrfs_subvolume_snapshot(const char *source, const char *target);
/* Makes every permitted capability inheritable and ambient, so that a program executed next as a
 * user other than root keeps them (mkosi-sandbox without --become-root). 0, or -1 with errno. */
int mkosi_raise_ambient_capabilities(void);
/* Ask for `sig` when the parent dies. */
int mkosi_set_parent_death_signal(int sig);

/* SIGINT, SIGTERM and SIGHUP set a flag (and are forwarded to the child process registered
 * with mkosi_set_child) instead of killing mkosi, so it can clean up. */
void mkosi_install_interrupt_handlers(void);
int mkosi_interrupted(void);
void mkosi_set_child(pid_t pid);
/* While a debug shell runs, SIGINT (1) is ignored, so that Ctrl-C belongs to the shell; (0)
 * restores the handler above. */
void mkosi_ignore_interrupt(int ignore);

/* Installs a seccomp filter that makes the chown family (suppress_chown) and/or the sync family
 * (suppress_sync) succeed without doing anything. Used for package managers running as the only
 * user of a user namespace, where changing ownership cannot work. */
int mkosi_install_syscall_filter(int suppress_chown, int suppress_sync);

#endif
