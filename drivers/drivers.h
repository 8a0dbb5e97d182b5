/* Host drivers: the console UART, machine power-off / emulator exit, ACPI table lookup. */
#ifndef VIREO_DRIVERS_DRIVERS_H
#define VIREO_DRIVERS_DRIVERS_H

#include "lib/types.h"

/* Port 0 means no console. */
void uart_console_init(u16 port);
/* Console output waits in a ring: drain sends what the UART takes now, flush all of it. */
void uart_console_drain(void);
void uart_console_flush(void);
/* A byte typed on the console, or -1 when none is waiting. */
int uart_console_getc(void);
bool uart_console_present(void);

/* Masks the legacy PICs and software-disables the local APIC: no device interrupts. */
void host_interrupts_quiesce(void);
/* The host APIC timer, for CPUs without the VMX-preemption timer: one-shot interrupts on
 * HOST_TIMER_VECTOR (seen as external-interrupt exits). init: false if there is no
 * usable local APIC. arm: an interrupt after tsc_ticks (replacing any armed one). */
#define HOST_TIMER_VECTOR 0xf0
bool host_timer_init(void);
void host_timer_arm(u64 tsc_ticks);
void host_timer_eoi(void);

/* The host TSC frequency in Hz, measured by tsc_calibrate() at boot. */
extern u64 tsc_hz;
void tsc_calibrate(void);

/* How a run ends (the exit= option): see machine_exit(). */
enum exit_method { EXIT_HALT, EXIT_BOCHS, EXIT_QEMU, EXIT_ACPI };

/* Ends the run. On emulators, success and failure reach the test runner as distinct exit
 * statuses; on hardware (EXIT_ACPI) both power off; EXIT_HALT stops the CPU. */
__noreturn void machine_exit(enum exit_method method, bool success);

/* The host's CMOS clock, read now: seconds since 1970-01-01 (the clock is taken to keep
 * UTC), or 0 if there seems to be no clock. */
u64 rtc_host_epoch_seconds(void);

/* The ACPI root pointer the loader gave us (or 0), for table lookups. */
void acpi_set_rsdp(const void *rsdp);
/* Finds the ACPI table with this signature through the RSDT/XSDT; NULL if absent. */
const void *acpi_find_table(const char signature[4]);
/* ACPI soft-off (S5) through the FADT; returns if the tables offer no way. */
void acpi_power_off(void);

#endif
