/* Ticket spinlock: CPUs get the lock in the order they asked for it, so none starves.
 * Built on __atomic builtins only, so the same code runs in host tests. */
#ifndef VIREO_LIB_SPINLOCK_H
#define VIREO_LIB_SPINLOCK_H

#include "lib/types.h"

/*
 * next_ticket: the ticket the next locker draws. now_serving: the ticket that holds the
 * lock. Unlocked exactly when they are equal. Tickets wrap harmlessly: only equality is
 * compared, and fewer than 2^32 CPUs ever wait.
 */
struct spinlock {
	u32 next_ticket;
	u32 now_serving;
};

#define SPINLOCK_INIT { 0, 0 }

static inline void spin_init(struct spinlock *lock)
{
	lock->next_ticket = 0;
	lock->now_serving = 0;
}

/* Tells the CPU this is a spin-wait loop (saves power, eases the sibling hyperthread). */
static inline void cpu_relax(void)
{
	asm volatile("pause" ::: "memory");
}

static inline void spin_lock(struct spinlock *lock)
{
	u32 ticket = __atomic_fetch_add(&lock->next_ticket, 1, __ATOMIC_RELAXED);

	/* Acquire pairs with the release in spin_unlock: the previous holder's writes are
	 * visible once we see our ticket served. */
	while (__atomic_load_n(&lock->now_serving, __ATOMIC_ACQUIRE) != ticket)
		cpu_relax();
}

/*
 * Takes the lock only if nobody holds or waits for it. If next_ticket still equals the
 * now_serving value read just before, no ticket was drawn in between, so that ticket is
 * the one being served and drawing it means holding the lock.
 */
static inline bool spin_trylock(struct spinlock *lock)
{
	u32 serving = __atomic_load_n(&lock->now_serving, __ATOMIC_ACQUIRE);
	u32 expected = serving;

	return __atomic_compare_exchange_n(&lock->next_ticket, &expected, serving + 1, false,
					   __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

/* Only the holder writes now_serving, so a plain read of it is exact here. */
static inline void spin_unlock(struct spinlock *lock)
{
	__atomic_store_n(&lock->now_serving, lock->now_serving + 1, __ATOMIC_RELEASE);
}

#endif
