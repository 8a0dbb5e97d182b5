/* Slab caches of fixed-size objects, one page per slab with its header inside, and the
 * kmalloc() size classes built from them. */
#include "lib/slab.h"
#include "lib/bitmap.h"
#include "lib/page_alloc.h"
#include "lib/panic.h"
#include "lib/phys.h"
#include "lib/string.h"

#define SLAB_MAX_OBJECTS (KMEM_MAX_OBJECT_SIZE / KMEM_OBJECT_ALIGN)

/*
 * The header at the start of every slab page. Invariant: a slab with in_use == 0 is on its
 * cache's empty_slabs, one with 0 < in_use < objects_per_slab on partial_slabs, and a
 * full one on no list; bit i of used_map is set exactly when object i is allocated.
 */
struct slab {
	struct kmem_cache *cache;
	struct list_head link;
	u32 in_use;
	u64 used_map[BITMAP_WORDS(SLAB_MAX_OBJECTS)];
};
_Static_assert(sizeof(struct slab) <= SLAB_HEADER_SIZE, "the slab header must fit");
_Static_assert(IS_ALIGNED(SLAB_HEADER_SIZE, KMEM_OBJECT_ALIGN), "objects must be aligned");

void kmem_cache_init(struct kmem_cache *cache, const char *name, size_t object_size)
{
	ASSERT(object_size > 0 && object_size <= KMEM_MAX_OBJECT_SIZE);
	*cache = (struct kmem_cache)KMEM_CACHE_INIT(*cache, name, object_size);
}

static void *slab_object(struct slab *slab, size_t index)
{
	return (u8 *)slab + SLAB_HEADER_SIZE + index * slab->cache->object_size;
}

/* The slab an object lives in: objects never start a page, the header does. */
static struct slab *slab_of(const void *object)
{
	return (struct slab *)ALIGN_DOWN((uintptr_t)object, PAGE_SIZE);
}

/* The list a slab with in_use objects belongs on, NULL when full (see struct slab). */
static struct list_head *slab_list(struct kmem_cache *cache, u32 in_use)
{
	if (in_use == 0)
		return &cache->empty_slabs;
	if (in_use == cache->objects_per_slab)
		return NULL;
	return &cache->partial_slabs;
}

/* Sets a slab's in_use count and moves it to the list that count calls for. */
static void slab_set_in_use(struct kmem_cache *cache, struct slab *slab, u32 in_use)
{
	struct list_head *from = slab_list(cache, slab->in_use);
	struct list_head *to = slab_list(cache, in_use);

	slab->in_use = in_use;
	if (from == to)
		return;
	if (from)
		list_del(&slab->link);
	if (to)
		list_add(&slab->link, to);
	if (from == &cache->empty_slabs)
		cache->nr_empty_slabs--;
	if (to == &cache->empty_slabs)
		cache->nr_empty_slabs++;
}

/* Adds a fresh empty slab to the cache; false when page_alloc has no page. */
static bool cache_grow(struct kmem_cache *cache)
{
	u64 hpa = page_alloc(0);
	struct slab *slab;

	if (!hpa)
		return false;
	slab = phys_to_virt(hpa);
	memset(slab, 0, sizeof(*slab));
	slab->cache = cache;
	list_add(&slab->link, &cache->empty_slabs);
	cache->nr_empty_slabs++;
	cache->nr_slabs++;
	return true;
}

/* Partial slabs first, so that empty ones stay empty and can go back to page_alloc. */
static struct slab *slab_with_free_object(struct kmem_cache *cache)
{
	if (!list_empty(&cache->partial_slabs))
		return list_first_entry(&cache->partial_slabs, struct slab, link);
	if (list_empty(&cache->empty_slabs) && !cache_grow(cache))
		return NULL;
	return list_first_entry(&cache->empty_slabs, struct slab, link);
}

void *kmem_cache_alloc(struct kmem_cache *cache)
{
	struct slab *slab;
	size_t index;
	void *object;

	ASSERT(cache->objects_per_slab > 0);
	spin_lock(&cache->lock);
	slab = slab_with_free_object(cache);
	if (!slab) {
		spin_unlock(&cache->lock);
		return NULL;
	}
	index = bitmap_find_first_zero(slab->used_map, cache->objects_per_slab);
	ASSERT(index < cache->objects_per_slab);
	bitmap_set_bit(slab->used_map, index);
	slab_set_in_use(cache, slab, slab->in_use + 1);
	cache->objects_in_use++;
	object = slab_object(slab, index);
	spin_unlock(&cache->lock);
	memset(object, 0, cache->object_size);
	return object;
}

/* Returns empty slabs beyond the reserve to page_alloc. */
static void cache_trim(struct kmem_cache *cache)
{
	struct slab *slab;

	while (cache->nr_empty_slabs > KMEM_EMPTY_SLABS_KEPT) {
		slab = list_first_entry(&cache->empty_slabs, struct slab, link);
		list_del(&slab->link);
		cache->nr_empty_slabs--;
		cache->nr_slabs--;
		page_free(virt_to_phys(slab), 0);
	}
}

/* The index of an allocated object of slab, checking that it is one. */
static size_t allocated_object_index(struct slab *slab, const void *object)
{
	size_t offset = (uintptr_t)object - (uintptr_t)slab;
	size_t index;

	ASSERT(offset >= SLAB_HEADER_SIZE);
	offset -= SLAB_HEADER_SIZE;
	ASSERT(offset % slab->cache->object_size == 0);
	index = offset / slab->cache->object_size;
	ASSERT(index < slab->cache->objects_per_slab);
	ASSERT(bitmap_test_bit(slab->used_map, index));
	return index;
}

void kmem_cache_free(struct kmem_cache *cache, void *object)
{
	struct slab *slab = slab_of(object);
	size_t index;

	spin_lock(&cache->lock);
	ASSERT(slab->cache == cache);
	index = allocated_object_index(slab, object);
	bitmap_clear_bit(slab->used_map, index);
	slab_set_in_use(cache, slab, slab->in_use - 1);
	cache->objects_in_use--;
	cache_trim(cache);
	spin_unlock(&cache->lock);
}

/* --- kmalloc --- */

#define KMALLOC_CACHE(index, size) \
	[index] = KMEM_CACHE_INIT(kmalloc_caches[index], "kmalloc-" #size, size)

static struct kmem_cache kmalloc_caches[] = {
	KMALLOC_CACHE(0, 8), KMALLOC_CACHE(1, 16), KMALLOC_CACHE(2, 32),
	KMALLOC_CACHE(3, 64), KMALLOC_CACHE(4, 128), KMALLOC_CACHE(5, 256),
	KMALLOC_CACHE(6, 512), KMALLOC_CACHE(7, 1024),
};
_Static_assert(KMALLOC_MIN_CLASS_SIZE << (ARRAY_SIZE(kmalloc_caches) - 1) ==
	       KMALLOC_MAX_CLASS_SIZE, "one cache per power of two");

/* Callers check size <= KMALLOC_MAX_CLASS_SIZE. */
static struct kmem_cache *kmalloc_cache(size_t size)
{
	unsigned int index = 0;

	while ((KMALLOC_MIN_CLASS_SIZE << index) < size)
		index++;
	return &kmalloc_caches[index];
}

const struct kmem_cache *kmalloc_cache_for_size(size_t size)
{
	return size <= KMALLOC_MAX_CLASS_SIZE ? kmalloc_cache(size) : NULL;
}

void *kmalloc(size_t size)
{
	unsigned int order;
	u64 hpa;

	if (size <= KMALLOC_MAX_CLASS_SIZE)
		return kmem_cache_alloc(kmalloc_cache(size));
	order = page_order_for_size(size);
	if (order > PAGE_ORDER_MAX)
		return NULL;
	hpa = page_alloc_zeroed(order);
	return hpa ? phys_to_virt(hpa) : NULL;
}

static bool is_kmalloc_cache(const struct kmem_cache *cache)
{
	return cache >= &kmalloc_caches[0] && cache < &kmalloc_caches[ARRAY_SIZE(kmalloc_caches)];
}

void kfree(void *ptr)
{
	struct kmem_cache *cache;
	u64 hpa;

	if (!ptr)
		return;
	if (IS_ALIGNED((uintptr_t)ptr, PAGE_SIZE)) {
		hpa = virt_to_phys(ptr);
		page_free(hpa, page_block_order(hpa));
		return;
	}
	cache = slab_of(ptr)->cache;
	ASSERT(is_kmalloc_cache(cache));
	kmem_cache_free(cache, ptr);
}
