/* Host-physical <-> hypervisor-virtual conversion. The hypervisor maps all RAM 1:1;
 * host unit tests set phys_virt_offset to place a simulated physical space in an arena. */
#ifndef VIREO_LIB_PHYS_H
#define VIREO_LIB_PHYS_H

#include "lib/types.h"

#ifdef VIREO_HOST
extern uintptr_t phys_virt_offset;
#else
#define phys_virt_offset ((uintptr_t)0)
#endif

static inline void *phys_to_virt(u64 hpa) { return (void *)(uintptr_t)(hpa + phys_virt_offset); }
static inline u64 virt_to_phys(const void *va) { return (u64)((uintptr_t)va - phys_virt_offset); }

#endif
