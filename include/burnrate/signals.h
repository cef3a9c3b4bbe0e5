/*
 * Signal state of the commands: handlers only set flags, the loops of
 * `run` and `replay` read them. The one place that installs handlers.
 *
 * @locality process-wide; the flags are written by signal handlers and read
 *           on the calling thread.
 */
#ifndef BURNRATE_SIGNALS_H
#define BURNRATE_SIGNALS_H

#include <stdbool.h>

/**
 * @brief Handle SIGINT/SIGTERM by setting a flag (a second one while the
 *        flag is set calls _exit(130) at once) and ignore SIGPIPE.
 */
void br_signals_install(void);

/** @brief Handle SIGHUP by setting the reload flag. Only `run` reloads:
 *         elsewhere SIGHUP keeps its default (terminate). */
void br_signals_install_reload(void);

/** @returns true once SIGINT or SIGTERM has arrived. */
bool br_signals_stop_requested(void);

/** @returns true when SIGHUP arrived since the last call, and clears it. */
bool br_signals_take_reload(void);

#endif
