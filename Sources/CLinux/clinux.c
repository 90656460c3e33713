#define _GNU_SOURCE
#include "clinux.h"

#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

const int MKOSI_CLONE_NEWNS = CLONE_NEWNS;
const int MKOSI_CLONE_NEWUSER = CLONE_NEWUSER;

int mkosi_unshare(int flags) { return unshare(flags); }

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

int mkosi_interrupted(void) { return interrupted; }

void mkosi_set_child(pid_t pid) { child = pid; }
