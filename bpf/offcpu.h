/* bpf/offcpu.h — per-thread scheduler view of the target (offcpu.bpf.c). */
#ifndef GMP_BPF_OFFCPU_H
#define GMP_BPF_OFFCPU_H

#include "hist.h"

struct offcpu_thread {
	unsigned long long offcpu_ns;   /* switched out -> back in */
	unsigned long long oncpu_ns;    /* switched in -> out */
	unsigned long long switches;    /* times switched out */
	unsigned long long involuntary; /* ... while still runnable (preempted) */
	unsigned long long migrations;  /* sched_migrate_task */
	unsigned long long last_cpu;
	char comm[16];                  /* the thread's name when last switched in (its role) */
};

#endif
