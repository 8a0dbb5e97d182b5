/* Unit tests of the i8042 keyboard controller (drivers/vi8042.c), driven the way Linux's
 * i8042, atkbd and psmouse drivers drive it, and of the 0xcf9 reset control register
 * (drivers/vreset.c).
 * unit-sources: drivers/vi8042.c drivers/vreset.c drivers/vregs.c drivers/vtime.c core/bus.c lib/log.c lib/printf.c lib/string.c lib/panic.c
 */
#include "tests/unit/fake_platform.h"

/* Until drivers/vdev.h declares them (drivers/vreset.c). */
struct vreset;
struct vreset *vreset_create(struct vm *vm);
void vreset_destroy(struct vreset *reset);
u8 vreset_control_read(const struct vreset *reset);
void vreset_control_write(struct vreset *reset, u8 value);

#define DATA VDEV_I8042_DATA_PORT
#define COMMAND VDEV_I8042_COMMAND_PORT
#define IRQ_AUX 12

/* Status bits and CTR bits as Linux's drivers/input/serio/i8042.h names them. */
#define STR_OBF 0x01
#define STR_IBF 0x02
#define STR_SYS 0x04
#define STR_CMDDAT 0x08
#define STR_KEYLOCK 0x10
#define STR_AUXDATA 0x20
#define STR_TIMEOUT 0x40
#define CTR_KBDINT 0x01
#define CTR_AUXINT 0x02
#define CTR_SYS 0x04
#define CTR_KBDDIS 0x10
#define CTR_AUXDIS 0x20
#define CTR_XLATE 0x40

/* Linux's command encoding: bits 15:12 parameters sent, 11:8 bytes returned. */
#define CMD_CTL_RCTR 0x0120
#define CMD_CTL_WCTR 0x1060
#define CMD_CTL_TEST 0x01aa
#define CMD_AUX_DISABLE 0x00a7
#define CMD_AUX_ENABLE 0x00a8
#define CMD_AUX_LOOP 0x11d3
#define CMD_AUX_SEND 0x10d4

static u8 status(void)
{
	return (u8)pio_in(COMMAND, 1);
}

static u8 read_data(void)
{
	return (u8)pio_in(DATA, 1);
}

/* What Linux's __i8042_command() does, polling as it does; -1 where it would time out
 * (or, for the loopback command, see a byte that is not from the aux port). */
static int linux_command(u8 *param, unsigned command)
{
	if (status() & STR_IBF)
		return -1;
	pio_out(COMMAND, 1, command & 0xff);
	for (unsigned i = 0; i < ((command >> 12) & 0xf); i++) {
		if (status() & STR_IBF)
			return -1;
		pio_out(DATA, 1, param[i]);
	}
	for (unsigned i = 0; i < ((command >> 8) & 0xf); i++) {
		if (!(status() & STR_OBF))
			return -1;
		if (command == CMD_AUX_LOOP && !(status() & STR_AUXDATA))
			return -1;
		param[i] = read_data();
	}
	return 0;
}

/* i8042_flush(): how many bytes it drained (at most its 16-byte buffer size). */
static unsigned linux_flush(void)
{
	unsigned n = 0;

	while ((status() & STR_OBF) && n < 16) {
		read_data();
		n++;
	}
	return n;
}

/* A byte to the keyboard, then the reply bytes it put in the output buffer. */
static unsigned keyboard_exchange(u8 byte, u8 *reply, unsigned max)
{
	unsigned n = 0;

	pio_out(DATA, 1, byte);
	while (n < max && (status() & STR_OBF))
		reply[n++] = read_data();
	return n;
}

static struct vi8042 *fresh_controller(void)
{
	fake_platform_reset();
	struct vi8042 *kbc = vi8042_create(&vm);
	CHECK(kbc != NULL);
	return kbc;
}

static void test_power_on(void)
{
	struct vi8042 *kbc = fresh_controller();
	u8 ctr = 0;

	/* Not inhibited, self test passed (SYS), nothing to read, last write was data. */
	CHECK_EQ(status(), STR_KEYLOCK | STR_SYS);
	CHECK_EQ(linux_flush(), 0);
	CHECK_EQ(linux_command(&ctr, CMD_CTL_RCTR), 0);
	CHECK_EQ(ctr, CTR_XLATE | CTR_AUXDIS | CTR_SYS | CTR_KBDINT);
	CHECK_EQ(status(), STR_KEYLOCK | STR_SYS | STR_CMDDAT);
	/* A 16-bit read at 0x64: the status, and 0xff from the unassigned 0x65. */
	CHECK_EQ(pio_in(COMMAND, 2), 0xff00 | (STR_KEYLOCK | STR_SYS | STR_CMDDAT));
	vi8042_destroy(kbc);
}

/* i8042_controller_selftest() and i8042_controller_init(), byte for byte. */
static u8 linux_controller_init(void)
{
	u8 param = 0, ctr[2] = { 0 };

	CHECK_EQ(linux_flush(), 0);				/* i8042_controller_check */
	CHECK_EQ(linux_command(&param, CMD_CTL_TEST), 0);
	CHECK_EQ(param, 0x55);
	CHECK_EQ(linux_command(&ctr[0], CMD_CTL_RCTR), 0);	/* a stable CTR: two reads */
	CHECK_EQ(linux_command(&ctr[1], CMD_CTL_RCTR), 0);
	CHECK_EQ(ctr[0], ctr[1]);
	CHECK(status() & STR_KEYLOCK);				/* else "Keylock active" */
	CHECK(ctr[0] & CTR_XLATE);				/* translated keyboard port */
	ctr[0] = (u8)((ctr[0] | CTR_KBDDIS) & ~CTR_KBDINT);
	CHECK_EQ(linux_command(&ctr[0], CMD_CTL_WCTR), 0);
	return ctr[0];
}

/* i8042_toggle_aux(): the AUX enable bit must follow 0xa7 / 0xa8 in the CTR. */
static void linux_toggle_aux(bool on)
{
	u8 param = 0;

	CHECK_EQ(linux_command(&param, on ? CMD_AUX_ENABLE : CMD_AUX_DISABLE), 0);
	CHECK_EQ(linux_command(&param, CMD_CTL_RCTR), 0);
	CHECK_EQ(!(param & CTR_AUXDIS), on);
}

static void linux_write_ctr(u8 *ctr)
{
	u8 readback = 0;

	CHECK_EQ(linux_command(ctr, CMD_CTL_WCTR), 0);
	CHECK_EQ(linux_command(&readback, CMD_CTL_RCTR), 0);
	CHECK_EQ(readback, *ctr);
}

/* i8042_check_aux(): loopback, bit assignment test, AUX IRQ delivery test. */
static void linux_check_aux(u8 *ctr)
{
	u8 param = 0x5a;

	CHECK_EQ(linux_flush(), 0);
	CHECK_EQ(linux_command(&param, CMD_AUX_LOOP), 0);
	CHECK_EQ(param, 0x5a);
	CHECK_EQ(irq_rising_edges[IRQ_AUX], 0);			/* AUXINT still clear */
	linux_toggle_aux(false);
	linux_toggle_aux(true);
	*ctr = (u8)((*ctr & ~CTR_AUXDIS) | CTR_AUXINT);		/* i8042_enable_aux_port */
	linux_write_ctr(ctr);
	param = 0xa5;
	CHECK_EQ(linux_command(&param, CMD_AUX_LOOP & 0xf0ff), 0);
	CHECK_EQ(irq_rising_edges[IRQ_AUX], 1);			/* i8042_aux_test_irq runs */
	CHECK_EQ(status() & (STR_OBF | STR_AUXDATA), STR_OBF | STR_AUXDATA);
	CHECK_EQ(read_data(), 0xa5);
	*ctr = (u8)((*ctr | CTR_AUXDIS) & ~CTR_AUXINT);
	linux_write_ctr(ctr);
}

/* i8042_set_mux_mode(1): a plain loopback returns the third byte unchanged: no MUX. */
static void linux_check_mux(void)
{
	const u8 sent[3] = { 0xf0, 0x56, 0xa4 };

	for (unsigned i = 0; i < 3; i++) {
		u8 param = sent[i];
		CHECK_EQ(linux_command(&param, CMD_AUX_LOOP), 0);
		CHECK_EQ(param, sent[i]);
	}
}

/* atkbd_probe() and atkbd_activate() through the translated keyboard port. */
static void linux_atkbd_probe(void)
{
	u8 reply[4] = { 0 };
	unsigned edges = irq_rising_edges[VDEV_IRQ_KEYBOARD];

	CHECK_EQ(keyboard_exchange(0xf2, reply, 4), 3);		/* ATKBD_CMD_GETID */
	CHECK_EQ(reply[0], 0xfa);
	CHECK_EQ(reply[1], 0xab);
	CHECK_EQ(reply[2], 0x41);				/* 0x83 translated to set 1 */
	CHECK_EQ(irq_rising_edges[VDEV_IRQ_KEYBOARD], edges + 3);	/* one per byte */
	CHECK_EQ(keyboard_exchange(0xf5, reply, 4), 1);		/* deactivate */
	CHECK_EQ(reply[0], 0xfa);
	CHECK_EQ(keyboard_exchange(0xf3, reply, 4), 1);		/* typematic rate... */
	CHECK_EQ(keyboard_exchange(0x00, reply, 4), 1);		/* ...fastest */
	CHECK_EQ(reply[0], 0xfa);
	CHECK_EQ(keyboard_exchange(0xf4, reply, 4), 1);		/* enable */
	CHECK_EQ(reply[0], 0xfa);
	CHECK_EQ(keyboard_exchange(0xed, reply, 4), 1);		/* LEDs... */
	CHECK_EQ(keyboard_exchange(0x00, reply, 4), 1);		/* ...all off */
	CHECK_EQ(reply[0], 0xfa);
	CHECK_EQ(irq_rising_edges[VDEV_IRQ_KEYBOARD], edges + 9);
}

/* psmouse's first command: the empty aux port times out at once. */
static void linux_psmouse_probe(void)
{
	u8 param = 0xf2;				/* PSMOUSE_CMD_GETID */

	CHECK_EQ(linux_command(&param, CMD_AUX_SEND), 0);
	CHECK_EQ(irq_rising_edges[IRQ_AUX], 2);
	CHECK_EQ(status() & (STR_OBF | STR_AUXDATA | STR_TIMEOUT),
		 STR_OBF | STR_AUXDATA | STR_TIMEOUT);
	CHECK_EQ(read_data(), 0xfe);
	CHECK_EQ(status() & (STR_OBF | STR_TIMEOUT), 0);
}

static void test_linux_probe(void)
{
	struct vi8042 *kbc = fresh_controller();
	u8 ctr = linux_controller_init();

	/* Power-on CTR had KBDINT: the self test and both CTR reads raised IRQ 1. */
	CHECK_EQ(irq_rising_edges[VDEV_IRQ_KEYBOARD], 3);
	CHECK_EQ(ctr, CTR_XLATE | CTR_AUXDIS | CTR_KBDDIS | CTR_SYS);
	linux_check_aux(&ctr);
	linux_check_mux();
	ctr = (u8)((ctr & ~CTR_AUXDIS) | CTR_AUXINT);		/* i8042_setup_aux */
	CHECK_EQ(linux_command(&ctr, CMD_CTL_WCTR), 0);
	ctr = (u8)((ctr & ~CTR_KBDDIS) | CTR_KBDINT);		/* i8042_setup_kbd */
	CHECK_EQ(linux_command(&ctr, CMD_CTL_WCTR), 0);
	CHECK_EQ(irq_rising_edges[VDEV_IRQ_KEYBOARD], 3);	/* KBDINT was off until now */
	linux_atkbd_probe();
	linux_psmouse_probe();
	CHECK_EQ(stop_calls, 0);
	vi8042_destroy(kbc);
}

static void test_keyboard_commands(void)
{
	struct vi8042 *kbc = fresh_controller();
	u8 ctr = 0, reply[4] = { 0 };

	linux_command(&ctr, CMD_CTL_WCTR);			/* untranslated, no interrupts */
	CHECK_EQ(keyboard_exchange(0xf2, reply, 4), 3);
	CHECK_EQ(reply[0] << 16 | reply[1] << 8 | reply[2], 0xfaab83);
	CHECK_EQ(keyboard_exchange(0xff, reply, 4), 2);		/* reset: ACK, BAT passed */
	CHECK_EQ(reply[0] << 8 | reply[1], 0xfaaa);
	CHECK_EQ(keyboard_exchange(0xf0, reply, 4), 1);		/* scancode set: get */
	CHECK_EQ(keyboard_exchange(0x00, reply, 4), 2);
	CHECK_EQ(reply[0] << 8 | reply[1], 0xfa02);
	keyboard_exchange(0xf0, reply, 4);			/* select set 3 */
	CHECK_EQ(keyboard_exchange(0x03, reply, 4), 1);
	CHECK_EQ(reply[0], 0xfa);
	keyboard_exchange(0xf0, reply, 4);
	keyboard_exchange(0x00, reply, 4);
	CHECK_EQ(reply[1], 0x03);
	keyboard_exchange(0xff, reply, 4);			/* reset: back to set 2 */
	keyboard_exchange(0xf0, reply, 4);
	keyboard_exchange(0x00, reply, 4);
	CHECK_EQ(reply[1], 0x02);
	keyboard_exchange(0xf0, reply, 4);
	CHECK_EQ(keyboard_exchange(0x05, reply, 4), 1);		/* no set 5: resend */
	CHECK_EQ(reply[0], 0xfe);
	CHECK_EQ(keyboard_exchange(0xee, reply, 4), 1);		/* echo, no ACK */
	CHECK_EQ(reply[0], 0xee);
	CHECK_EQ(keyboard_exchange(0xf1, reply, 4), 1);		/* not a command */
	CHECK_EQ(reply[0], 0xfe);
	/* A command where a parameter was due is taken as the command. */
	keyboard_exchange(0xed, reply, 4);
	CHECK_EQ(keyboard_exchange(0xf4, reply, 4), 1);
	CHECK_EQ(keyboard_exchange(0x00, reply, 4), 1);		/* so 0x00 is no parameter */
	CHECK_EQ(reply[0], 0xfe);
	/* Translated, the set number comes back as a set 1 code too. */
	ctr = CTR_XLATE;
	linux_command(&ctr, CMD_CTL_WCTR);
	keyboard_exchange(0xf0, reply, 4);
	keyboard_exchange(0x00, reply, 4);
	CHECK_EQ(reply[0] << 8 | reply[1], 0xfa41);
	vi8042_destroy(kbc);
}

static void test_ctr_and_port_enables(void)
{
	struct vi8042 *kbc = fresh_controller();
	u8 ctr = 0x00, reply[4];

	linux_write_ctr(&ctr);
	CHECK_EQ(status() & STR_SYS, 0);			/* SYS follows CTR bit 2 */
	ctr = 0x77;
	linux_write_ctr(&ctr);
	CHECK(status() & STR_SYS);
	pio_out(COMMAND, 1, 0xae);				/* enable keyboard */
	pio_out(COMMAND, 1, 0xa8);				/* enable aux */
	linux_command(&ctr, CMD_CTL_RCTR);
	CHECK_EQ(ctr, 0x47);
	pio_out(COMMAND, 1, 0xad);
	linux_command(&ctr, CMD_CTL_RCTR);
	CHECK_EQ(ctr, 0x57);
	keyboard_exchange(0xf4, reply, 4);			/* sending enables the port */
	linux_command(&ctr, CMD_CTL_RCTR);
	CHECK_EQ(ctr, 0x47);
	/* A command while 0x60 waited for a CTR byte replaces it: 0xf4 goes to the keyboard. */
	pio_out(COMMAND, 1, 0x60);
	pio_out(COMMAND, 1, 0xab);				/* keyboard interface test */
	CHECK_EQ(read_data(), 0x00);
	CHECK_EQ(keyboard_exchange(0xf4, reply, 4), 1);
	CHECK_EQ(reply[0], 0xfa);
	pio_out(COMMAND, 1, 0xa9);				/* aux interface test */
	CHECK_EQ(read_data(), 0x00);
	pio_out(COMMAND, 1, 0xe0);				/* unknown: no reply */
	CHECK_EQ(status() & STR_OBF, 0);
	linux_command(&ctr, CMD_CTL_RCTR);
	CHECK_EQ(ctr, 0x47);
	vi8042_destroy(kbc);
}

static void test_output_buffer(void)
{
	struct vi8042 *kbc = fresh_controller();
	u8 ctr = 0;

	linux_command(&ctr, CMD_CTL_WCTR);
	pio_out(COMMAND, 1, 0xd2);				/* as if from the keyboard */
	pio_out(DATA, 1, 0x1c);
	CHECK_EQ(status() & (STR_OBF | STR_AUXDATA | STR_CMDDAT), STR_OBF);
	CHECK_EQ(read_data(), 0x1c);
	CHECK_EQ(status() & STR_OBF, 0);
	CHECK_EQ(read_data(), 0x1c);				/* empty: the last byte again */
	pio_out(COMMAND, 1, 0xd3);				/* as if from the aux device */
	pio_out(DATA, 1, 0x33);
	CHECK_EQ(status() & (STR_OBF | STR_AUXDATA), STR_OBF | STR_AUXDATA);
	CHECK_EQ(read_data(), 0x33);
	CHECK_EQ(status() & STR_AUXDATA, 0);
	/* Unread bytes queue up to a limit Linux's flush can always drain. */
	for (unsigned i = 0; i < 20; i++) {
		pio_out(COMMAND, 1, 0xd2);
		pio_out(DATA, 1, i);
	}
	CHECK_EQ(read_data(), 0x00);				/* oldest first */
	CHECK_EQ(read_data(), 0x01);
	unsigned queued = 2 + linux_flush();
	CHECK(queued >= 3 && queued < 16);	/* else i8042_flush() says "No controller" */
	CHECK_EQ(status() & STR_OBF, 0);
	vi8042_destroy(kbc);
}

static void test_interrupt_edges(void)
{
	struct vi8042 *kbc = fresh_controller();
	u8 ctr = 0, param = 0x99;

	linux_command(&ctr, CMD_CTL_WCTR);
	pio_out(COMMAND, 1, 0xd2);
	pio_out(DATA, 1, 0x1e);
	CHECK_EQ(irq_rising_edges[VDEV_IRQ_KEYBOARD], 0);	/* KBDINT clear */
	ctr = CTR_KBDINT;
	linux_command(&ctr, CMD_CTL_WCTR);			/* enabled with a byte waiting */
	CHECK_EQ(irq_rising_edges[VDEV_IRQ_KEYBOARD], 1);
	CHECK_EQ(read_data(), 0x1e);
	CHECK(!irq_level[VDEV_IRQ_KEYBOARD]);			/* an edge, not a held level */
	linux_command(&param, CMD_AUX_LOOP);			/* aux byte: not IRQ 1 */
	CHECK_EQ(param, 0x99);
	CHECK_EQ(irq_rising_edges[VDEV_IRQ_KEYBOARD], 1);
	CHECK_EQ(irq_rising_edges[IRQ_AUX], 0);			/* AUXINT clear */
	ctr = CTR_AUXINT;
	linux_command(&ctr, CMD_CTL_WCTR);
	linux_command(&param, CMD_AUX_LOOP);
	CHECK_EQ(irq_rising_edges[IRQ_AUX], 1);
	CHECK_EQ(irq_rising_edges[VDEV_IRQ_KEYBOARD], 1);
	pio_out(DATA, 1, 0xf2);					/* keyboard byte: not IRQ 12 */
	CHECK_EQ(irq_rising_edges[VDEV_IRQ_KEYBOARD], 1);
	ctr = CTR_KBDINT;					/* ACK waiting: one edge */
	linux_command(&ctr, CMD_CTL_WCTR);
	CHECK_EQ(irq_rising_edges[VDEV_IRQ_KEYBOARD], 2);
	read_data();						/* 0xab moves up: one more */
	CHECK_EQ(irq_rising_edges[VDEV_IRQ_KEYBOARD], 3);
	read_data();
	read_data();
	CHECK_EQ(irq_rising_edges[VDEV_IRQ_KEYBOARD], 4);
	CHECK_EQ(irq_rising_edges[IRQ_AUX], 1);
	vi8042_destroy(kbc);
}

static void test_input_and_output_ports(void)
{
	struct vi8042 *kbc = fresh_controller();
	u8 ctr = 0;

	linux_command(&ctr, CMD_CTL_WCTR);
	pio_out(COMMAND, 1, 0xc0);
	CHECK_EQ(read_data(), 0x80);				/* keyboard not inhibited */
	pio_out(COMMAND, 1, 0xd0);
	CHECK_EQ(read_data(), 0x03);				/* reset released, A20 on */
	pio_out(COMMAND, 1, 0xd1);
	pio_out(DATA, 1, 0x01);					/* A20 off: no reset */
	CHECK_EQ(stop_calls, 0);
	pio_out(COMMAND, 1, 0xd0);
	CHECK_EQ(read_data(), 0x01);
	pio_out(COMMAND, 1, 0xd3);				/* an aux byte waits... */
	pio_out(DATA, 1, 0x42);
	pio_out(COMMAND, 1, 0xd0);
	CHECK_EQ(read_data(), 0x42);
	CHECK_EQ(read_data(), 0x01 | 0x20);			/* ...bit 5: IRQ 12 output */
	pio_out(COMMAND, 1, 0xff);				/* pulses no line */
	CHECK_EQ(stop_calls, 0);
	vi8042_destroy(kbc);
}

static void check_reset_stop(const char *reason)
{
	CHECK_EQ(stop_calls, 1);
	CHECK_EQ(vm.state, VM_STOPPED);
	CHECK_EQ(vm.exit_status, 0);
	CHECK_STR(stop_reason, reason);
}

static void test_resets(void)
{
	static const char kbc_reason[] =
		"the guest reset the machine through the i8042 keyboard controller (reboot)";
	static const u8 pulse_commands[] = { 0xfe, 0xf0, 0xf2 };
	struct vi8042 *kbc;

	for (unsigned i = 0; i < ARRAY_SIZE(pulse_commands); i++) {
		kbc = fresh_controller();
		pio_out(COMMAND, 1, pulse_commands[i]);
		check_reset_stop(kbc_reason);
		vi8042_destroy(kbc);
	}
	kbc = fresh_controller();
	pio_out(COMMAND, 1, 0xd1);				/* output port, bit 0 clear */
	pio_out(DATA, 1, 0x02);
	check_reset_stop(kbc_reason);
	vi8042_destroy(kbc);
}

static void test_reset_control_register(void)
{
	static const char reason[] = "the guest reset the machine through port 0xCF9 (reboot)";
	struct vreset *reset;

	fake_platform_reset();
	reset = vreset_create(&vm);
	CHECK(reset != NULL);
	CHECK_EQ(vreset_control_read(reset), 0x00);
	vreset_control_write(reset, 0x02);			/* hard reset chosen, not started */
	CHECK_EQ(stop_calls, 0);
	CHECK_EQ(vreset_control_read(reset), 0x02);
	vreset_control_write(reset, 0x06);			/* RST_CPU: go */
	check_reset_stop(reason);
	CHECK_EQ(vreset_control_read(reset), 0x02);		/* RST_CPU reads back 0 */
	vreset_destroy(reset);

	fake_platform_reset();
	reset = vreset_create(&vm);
	vreset_control_write(reset, 0x04);			/* a soft reset ends it too */
	check_reset_stop(reason);
	vreset_destroy(reset);
	vreset_destroy(NULL);
}

int main(void)
{
	test_power_on();
	test_linux_probe();
	test_keyboard_commands();
	test_ctr_and_port_enables();
	test_output_buffer();
	test_interrupt_edges();
	test_input_and_output_ports();
	test_resets();
	test_reset_control_register();
	return unit_done("test_vi8042");
}
