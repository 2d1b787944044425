/* stageuser.h: running stage commands as a user of their own. */
#ifndef SPIDERPIG_STAGEUSER_H
#define SPIDERPIG_STAGEUSER_H

/*
 * At startup, before any fork: look up name (NULL: stage commands run as
 * the worker's own user, and the worker must hold no capabilities), check
 * that the worker may switch to it (CAP_SETUID, CAP_SETGID and CAP_KILL,
 * given by the operator as ambient capabilities, e.g. setpriv
 * --ambient-caps), clear the ambient and inheritable sets so no command
 * inherits them, and load a seccomp filter under which the process and its
 * children may change their uid and gid to the stage user's only (this
 * sets no_new_privs on the worker). Returns 0, or -1 with a reason in err.
 */
int	 stageuser_init(const char *name, char *err, size_t errsz);

/*
 * In the child between fork and exec (async-signal-safe calls only):
 * become the stage user, groups included, drop every capability and set
 * no_new_privs, so neither setuid binaries nor file capabilities give the
 * command more. Returns 0 or -1 (the child must then _exit).
 */
int	 stageuser_enter(void);

#endif
