/* Small-object allocator for the hypervisor's own metadata (shadow pages, reverse maps...):
 * caches of fixed-size objects carved out of single pages, and kmalloc()/kfree() on top. */
#ifndef VIREO_LIB_SLAB_H
#define VIREO_LIB_SLAB_H

#include "lib/list.h"
#include "lib/spinlock.h"
#include "lib/types.h"

/*
 * A slab is one page from page_alloc: a header (owner cache, list link, allocation bitmap)
 * in its first SLAB_HEADER_SIZE bytes, then the objects. Slab pages never reach a guest,
 * so the header can be trusted. Objects are aligned to KMEM_OBJECT_ALIGN bytes.
 */
#define SLAB_HEADER_SIZE 128u
#define KMEM_OBJECT_ALIGN 8u
#define KMEM_MAX_OBJECT_SIZE (PAGE_SIZE - SLAB_HEADER_SIZE)
#define KMEM_OBJECT_SIZE(size) ((u32)ALIGN_UP((size), KMEM_OBJECT_ALIGN))
#define KMEM_OBJECTS_PER_SLAB(size) ((u32)(KMEM_MAX_OBJECT_SIZE / KMEM_OBJECT_SIZE(size)))

/* Empty slabs a cache keeps instead of returning them, so that an object allocated and
 * freed over and over at a slab boundary does not go to page_alloc each time. */
#define KMEM_EMPTY_SLABS_KEPT 1u

/*
 * Locking: each cache has its own lock, taken before page_alloc's lock (never after).
 * As with page_alloc, interrupt and NMI handlers must not allocate.
 * The statistics fields may be read at any time without the lock, as a snapshot.
 */
struct kmem_cache {
	const char *name;
	u32 object_size;
	u32 objects_per_slab;
	struct list_head partial_slabs;	/* some objects free: allocations come from here */
	struct list_head empty_slabs;	/* no object in use; full slabs are on no list */
	struct spinlock lock;
	u32 nr_empty_slabs;
	/* Statistics. */
	u64 objects_in_use;
	u64 nr_slabs;
};

/* Static initialiser, for `static struct kmem_cache c = KMEM_CACHE_INIT(c, "name", size);`
 * The size must be at most KMEM_MAX_OBJECT_SIZE (checked at the first allocation). */
#define KMEM_CACHE_INIT(var, cache_name, size) { \
	.name = (cache_name), \
	.object_size = KMEM_OBJECT_SIZE(size), \
	.objects_per_slab = KMEM_OBJECTS_PER_SLAB(size), \
	.partial_slabs = LIST_HEAD_INIT((var).partial_slabs), \
	.empty_slabs = LIST_HEAD_INIT((var).empty_slabs), \
	.lock = SPINLOCK_INIT, \
}

/* The same at run time; 0 < object_size <= KMEM_MAX_OBJECT_SIZE. */
void kmem_cache_init(struct kmem_cache *cache, const char *name, size_t object_size);

/* A zeroed object, or NULL when page_alloc has no page left. */
void *kmem_cache_alloc(struct kmem_cache *cache);
/* Freeing into another cache than the object's, or twice, panics. */
void kmem_cache_free(struct kmem_cache *cache, void *object);

/*
 * kmalloc() returns zeroed memory of any size up to 1 GiB, or NULL (size 0 gets a minimal
 * object). Sizes up to KMALLOC_MAX_CLASS_SIZE come from power-of-two size classes; larger
 * ones are whole page_alloc blocks, page aligned. A 2048-byte class would hold a single
 * object next to the slab header, no better than a whole page, so the classes stop at 1024.
 */
#define KMALLOC_MIN_CLASS_SIZE 8u
#define KMALLOC_MAX_CLASS_SIZE 1024u
_Static_assert(2 * KMALLOC_MAX_CLASS_SIZE <= KMEM_MAX_OBJECT_SIZE,
	       "the largest size class must fit at least twice in a slab");
void *kmalloc(size_t size);
/* Frees what kmalloc() returned (NULL is ignored); it finds the size by itself. */
void kfree(void *ptr);
/* The cache serving kmalloc(size), for statistics; NULL when size takes whole pages. */
const struct kmem_cache *kmalloc_cache_for_size(size_t size);

#endif
