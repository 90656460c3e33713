#define _GNU_SOURCE
#include "clinux.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/btrfs.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <stddef.h>
#include <signal.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

const int MKOSI_CLONE_NEWNS = CLONE_NEWNS;
const int MKOSI_CLONE_NEWUSER = CLONE_NEWUSER;
const int MKOSI_CLONE_NEWIPC = CLONE_NEWIPC;

int mkosi_unshare(int flags) { return unshare(flags); }

/* Forks a helper that waits until `gate` reaches end of file, then runs argv[0] with the target
 * PID as its first argument. */
static pid_t spawn_id_mapper(char *const argv[], int gate_read, int gate_write, pid_t target) {
        pid_t pid = fork();
        if (pid != 0)
                return pid;
        close(gate_write);
        char c;
        while (read(gate_read, &c, 1) < 0 && errno == EINTR)
                ;
        char pidbuf[32];
        snprintf(pidbuf, sizeof pidbuf, "%d", (int) target);
        size_t n = 0;
        while (argv[n])
                n++;
        char **args = calloc(n + 2, sizeof(char *));
        if (!args)
                _exit(127);
        args[0] = argv[0];
        args[1] = pidbuf;
        for (size_t i = 1; i < n; i++)
                args[i + 1] = argv[i];
        execv(argv[0], args);
        _exit(127);
}

static int wait_for(pid_t pid) {
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return 127;
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int mkosi_become_root_in_user_namespace(char *const uidmap[], char *const gidmap[]) {
        /* The maps can only be written once the namespace exists, and only from outside it: the
         * helpers are forked first and held at a pipe until the unshare is done. */
        int gate[2];
        if (pipe2(gate, O_CLOEXEC) < 0)
                return -1;
        pid_t self = getpid();
        pid_t u = spawn_id_mapper(uidmap, gate[0], gate[1], self);
        pid_t g = u > 0 ? spawn_id_mapper(gidmap, gate[0], gate[1], self) : -1;
        if (u < 0 || g < 0) {
                int e = errno;
                close(gate[0]);
                close(gate[1]);
                if (u > 0) {
                        kill(u, SIGKILL);
                        wait_for(u);
                }
                errno = e;
                return -1;
        }
        close(gate[0]);
        int r = unshare(CLONE_NEWUSER);
        int e = errno;
        if (r < 0) {
                kill(u, SIGKILL);
                kill(g, SIGKILL);
        }
        close(gate[1]);
        int su = wait_for(u), sg = wait_for(g);
        if (r < 0) {
                errno = e;
                return -1;
        }
        if (su != 0)
                return su;
        if (sg != 0)
                return sg;
        if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
                return -1;
        /* Changing IDs made the process undumpable, which would make its /proc files belong to
         * the host's root. */
        (void) prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
        return 0;
}

int mkosi_unshare_network(void) {
        if (unshare(CLONE_NEWNET) < 0)
                return -1;
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -1;
        struct ifreq ifr;
        memset(&ifr, 0, sizeof(ifr));
        strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
        int r = ioctl(fd, SIOCGIFFLAGS, &ifr);
        if (r >= 0) {
                ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
                r = ioctl(fd, SIOCSIFFLAGS, &ifr);
        }
        int saved = errno;
        close(fd);
        errno = saved;
        return r < 0 ? -1 : 0;
}

int mkosi_raise_ambient_capabilities(void) {
        struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
        struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
        if (syscall(SYS_capget, &header, data) < 0)
                return -1;
        /* A capability can only be ambient if it is permitted and inheritable. */
        for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
                data[i].inheritable = data[i].permitted;
        if (syscall(SYS_capset, &header, data) < 0)
                return -1;
        for (int cap = 0; cap <= 63; cap++) {
                int word = cap / 32;
                if (!(data[word].permitted & (1U << (cap % 32))))
                        continue;
                if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0 && errno != EINVAL)
                        return -1;
        }
        return 0;
}

int mkosi_pivot_root(const char *new_root, const char *put_old) {
        return (int) syscall(SYS_pivot_root, new_root, put_old);
}

int mkosi_set_parent_death_signal(int sig) { return prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0); }

static volatile sig_atomic_t interrupted = 0;
static volatile pid_t child = 0;

static void on_signal(int sig) {
        interrupted = sig;
        if (child > 0)
                kill(child, sig == SIGINT ? SIGINT : SIGTERM);
}

void mkosi_install_interrupt_handlers(void) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
}

void mkosi_ignore_interrupt(int ignore) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = ignore ? SIG_IGN : on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
}

int mkosi_interrupted(void) { return interrupted; }

void mkosi_set_child(pid_t pid) { child = pid; }

#if defined(__x86_64__)
#  define MKOSI_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#  define MKOSI_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

int mkosi_install_syscall_filter(int suppress_chown, int suppress_sync) {
#ifdef MKOSI_AUDIT_ARCH
        int nrs[16];
        size_t n = 0;
        if (suppress_chown) {
#ifdef __NR_chown
                nrs[n++] = __NR_chown;
#endif
#ifdef __NR_lchown
                nrs[n++] = __NR_lchown;
#endif
                nrs[n++] = __NR_fchown;
                nrs[n++] = __NR_fchownat;
        }
        if (suppress_sync) {
                nrs[n++] = __NR_sync;
                nrs[n++] = __NR_syncfs;
                nrs[n++] = __NR_fsync;
                nrs[n++] = __NR_fdatasync;
                nrs[n++] = __NR_sync_file_range;
        }
        if (n == 0)
                return 0;

        struct sock_filter filter[4 + 16 + 2];
        size_t i = 0;
        filter[i++] = (struct sock_filter) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
        filter[i++] = (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, MKOSI_AUDIT_ARCH, 1, 0);
        filter[i++] = (struct sock_filter) BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
        filter[i++] = (struct sock_filter) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
        for (size_t k = 0; k < n; k++)
                /* On a match, jump over the remaining comparisons and the ALLOW to the ERRNO(0). */
                filter[i++] = (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nrs[k], (unsigned char) (n - k), 0);
        filter[i++] = (struct sock_filter) BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
        filter[i++] = (struct sock_filter) BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 0);

        struct sock_fprog prog = { .len = (unsigned short) i, .filter = filter };
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -1;
        return (int) syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
#else
        (void) suppress_chown;
        (void) suppress_sync;
        errno = ENOSYS;
        return -1;
#endif
}

int mkosi_is_on_tmpfs(const char *path) {
    struct statfs st;
    if (statfs(path, &st) < 0)
        return -1;
    return st.f_type == TMPFS_MAGIC || st.f_type == RAMFS_MAGIC;
}

int mkosi_is_on_btrfs(const char *path) {
        struct statfs st;
        if (statfs(path, &st) < 0)
                return -1;
        return st.f_type == BTRFS_SUPER_MAGIC;
}

/* Opens the parent directory of `path` and points `name` at its last component. */
static int open_parent(const char *path, char *copy, size_t size, const char **name) {
        if (strlen(path) >= size) {
                errno = ENAMETOOLONG;
                return -1;
        }
        strcpy(copy, path);
        char *slash = strrchr(copy, '/');
        if (!slash || slash[1] == 0) {
                errno = EINVAL;
                return -1;
        }
        *name = path + (slash - copy) + 1;
        if (slash == copy)
                return open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        *slash = 0;
        return open(copy, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int mkosi_btrfs_subvolume_create(const char *path) {
        char copy[PATH_MAX];
        const char *name;
        int dir = open_parent(path, copy, sizeof(copy), &name);
        if (dir < 0)
                return -1;
        struct btrfs_ioctl_vol_args args = {};
        strncpy(args.name, name, BTRFS_PATH_NAME_MAX);
        int r = ioctl(dir, BTRFS_IOC_SUBVOL_CREATE, &args);
        int saved = errno;
        close(dir);
        errno = saved;
        return r < 0 ? -1 : 0;
}

int mkosi_btrfs_subvolume_snapshot(const char *source, const char *target) {
        char copy[PATH_MAX];
        const char *name;
        int src = open(source, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (src < 0)
                return -1;
        int dir = open_parent(target, copy, sizeof(copy), &name);
        if (dir < 0) {
                int saved = errno;
                close(src);
                errno = saved;
                return -1;
        }
        struct btrfs_ioctl_vol_args_v2 args = { .fd = src };
        strncpy(args.name, name, BTRFS_SUBVOL_NAME_MAX);
        int r = ioctl(dir, BTRFS_IOC_SNAP_CREATE_V2, &args);
        int saved = errno;
        close(dir);
        close(src);
        errno = saved;
        return r < 0 ? -1 : 0;
}
