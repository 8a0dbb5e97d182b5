/* Intrusive circular doubly linked lists: embed a struct list_head in the object and
 * get back to the object with list_entry(). An empty list's head points at itself. */
#ifndef VIREO_LIB_LIST_H
#define VIREO_LIB_LIST_H

#include "lib/types.h"

struct list_head {
	struct list_head *next, *prev;
};

#define LIST_HEAD_INIT(name) { &(name), &(name) }

static inline void list_init(struct list_head *head)
{
	head->next = head;
	head->prev = head;
}

static inline void list_insert_between(struct list_head *node, struct list_head *prev,
				       struct list_head *next)
{
	next->prev = node;
	node->next = next;
	node->prev = prev;
	prev->next = node;
}

/* Adds node right after head: a stack. */
static inline void list_add(struct list_head *node, struct list_head *head)
{
	list_insert_between(node, head, head->next);
}

/* Adds node right before head, at the end of the list: a queue. */
static inline void list_add_tail(struct list_head *node, struct list_head *head)
{
	list_insert_between(node, head->prev, head);
}

/* Unlinks node and leaves it as an empty list, so deleting it twice is harmless. */
static inline void list_del(struct list_head *node)
{
	node->prev->next = node->next;
	node->next->prev = node->prev;
	list_init(node);
}

/* Takes node off its list and puts it at the head of another. */
static inline void list_move(struct list_head *node, struct list_head *head)
{
	list_del(node);
	list_add(node, head);
}

static inline bool list_empty(const struct list_head *head)
{
	return head->next == head;
}

#define list_entry(ptr, type, member) container_of(ptr, type, member)

/* The list must not be empty. */
#define list_first_entry(head, type, member) list_entry((head)->next, type, member)
#define list_last_entry(head, type, member) list_entry((head)->prev, type, member)

#define list_next_entry(pos, member) \
	list_entry((pos)->member.next, typeof(*(pos)), member)

#define list_for_each_entry(pos, head, member) \
	for (pos = list_entry((head)->next, typeof(*(pos)), member); \
	     &(pos)->member != (head); \
	     pos = list_next_entry(pos, member))

/* Lets the body delete pos: the next entry is fetched before the body runs. */
#define list_for_each_entry_safe(pos, tmp, head, member) \
	for (pos = list_entry((head)->next, typeof(*(pos)), member), \
	     tmp = list_next_entry(pos, member); \
	     &(pos)->member != (head); \
	     pos = tmp, tmp = list_next_entry(tmp, member))

#endif
