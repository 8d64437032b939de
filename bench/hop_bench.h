/* SPDX-License-Identifier: MIT */
/*
 * hop_bench.h - Armstrong's ring benchmark for roost_bench: N processes
 * in a ring pass one 64-byte token around; each hop is one blocking send
 * and one blocking receive. Measured for roost and for pipes; the figure
 * is the time per hop.
 */
#ifndef HOP_BENCH_H
#define HOP_BENCH_H

#define HOP_TOKEN_LEN 64u
#define HOP_N_MAX 1024

enum hop_mech { HOP_ROOST, HOP_PIPE };

struct hop_cfg {
	double hc_warm_s;    /* untimed laps first, for at least this long */
	double hc_budget_s;  /* then timed laps until this much has passed */
	int hc_min_laps;     /* and at least this many timed laps */
	int hc_timeout_ms;   /* bound of each roost send and receive */
	int hc_job_timeout_s; /* the whole run's bound */
};

/*
 * Run one ring of 'n' processes (2..HOP_N_MAX) over 'm' and put the
 * microseconds per hop of the timed laps in '*us_per_hop'. Makes and
 * removes its own roost system or pipes. Returns 0 or a negative code
 * (already reported on stderr). The caller has called
 * bench_signals_block().
 */
int hop_run(const struct hop_cfg *cfg, enum hop_mech m, int n,
            double *us_per_hop);

#endif /* HOP_BENCH_H */
