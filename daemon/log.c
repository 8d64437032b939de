/* SPDX-License-Identifier: MIT */
/*
 * log.c - roostd's log: lines on stderr in the foreground, syslog(3)
 * once detached (rd_log_to_syslog).
 */
#include "rd.h"

#include <stdio.h>
#include <syslog.h>
#include <unistd.h>

static int log_level = RD_INFO;
static bool log_syslog;

void
rd_log_set_level(int level)
{
	log_level = level;
}

void
rd_log_to_syslog(const char *system)
{
	static char ident[64];

	snprintf(ident, sizeof(ident), "roostd[%s]", system);
	openlog(ident, LOG_PID, LOG_DAEMON);
	log_syslog = true;
}

void
rd_log(int level, const char *fmt, ...)
{
	static const int prio[] = {LOG_ERR, LOG_INFO, LOG_DEBUG};
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	if (log_syslog) {
		vsyslog(prio[level], fmt, ap);
	} else {
		fprintf(stderr, "roostd[%d]: ", (int)getpid());
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}
