/* SPDX-License-Identifier: MIT */
/*
 * atomic.h - every atomic access in libroost goes through these wrappers,
 * with the memory order in the name. A bare _Atomic expression elsewhere
 * is a review finding. Shared-memory words are declared with the
 * ROOST_ATOMIC() types below so the compiler keeps them lock-free and
 * naturally aligned (static_asserts in shm_format.h).
 */
#ifndef ROOST_CORE_ATOMIC_H
#define ROOST_CORE_ATOMIC_H

#include <stdatomic.h>
#include <stdint.h>

typedef _Atomic uint32_t roost__atomic_u32;
typedef _Atomic uint64_t roost__atomic_u64;
typedef _Atomic int32_t roost__atomic_i32;

#define roost__load_acq(p)    atomic_load_explicit((p), memory_order_acquire)
#define roost__load_rlx(p)    atomic_load_explicit((p), memory_order_relaxed)
#define roost__store_rel(p, v) \
	atomic_store_explicit((p), (v), memory_order_release)
#define roost__store_rlx(p, v) \
	atomic_store_explicit((p), (v), memory_order_relaxed)
#define roost__store_sc(p, v) \
	atomic_store_explicit((p), (v), memory_order_seq_cst)
#define roost__xchg_acqrel(p, v) \
	atomic_exchange_explicit((p), (v), memory_order_acq_rel)
#define roost__add_rlx(p, v) \
	atomic_fetch_add_explicit((p), (v), memory_order_relaxed)
#define roost__add_rel(p, v) \
	atomic_fetch_add_explicit((p), (v), memory_order_release)
#define roost__cas_acqrel(p, expp, v)                                      \
	atomic_compare_exchange_strong_explicit((p), (expp), (v),          \
	                                        memory_order_acq_rel,      \
	                                        memory_order_acquire)
#define roost__fence_sc()     atomic_thread_fence(memory_order_seq_cst)

/*
 * A full barrier right after an unlock. On x86 the unlock is a locked
 * read-modify-write, which the hardware already orders as a full fence
 * (TSO), so only the compiler must not move accesses across it.
 * Elsewhere a real seq_cst fence is needed.
 */
static inline void
roost__fence_after_unlock(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ __volatile__("" ::: "memory");
#else
	atomic_thread_fence(memory_order_seq_cst);
#endif
}

/*
 * Add to a counter that has one writer at a time (the lock holder, or the
 * mailbox owner): a relaxed load and store, no locked instruction. Readers
 * only display the value, so relaxed is enough.
 */
#define roost__bump_1w(p, v) \
	roost__store_rlx((p), roost__load_rlx(p) + (v))

/* A hint to the CPU inside a bounded spin loop. */
static inline void
roost__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

#endif /* ROOST_CORE_ATOMIC_H */
