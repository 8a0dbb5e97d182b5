/* The guest's i8042 keyboard controller at 0x60 (data) and 0x64 (status / command), with a
 * PS/2 keyboard on its first port and nothing plugged into its auxiliary (mouse) port.
 * Follows IBM's PS/2 Hardware Interface Technical Reference ("Keyboard/Auxiliary Device
 * Controller", "Keyboards 101/102-Key"), as Linux's i8042 and atkbd drivers use it. */
#include "core/vm.h"
#include "drivers/vdev.h"
#include "lib/log.h"
#include "lib/slab.h"

#define I8042_IRQ_AUX 12		/* the auxiliary port's interrupt line */

/* Status register (read at 0x64). Input buffer full (bit 1) is never set: a command or
 * data byte is handled completely while the guest's OUT instruction exits. */
#define STATUS_OUTPUT_FULL 0x01
#define STATUS_SYSTEM 0x04		/* copy of CTR_SYSTEM */
#define STATUS_LAST_WAS_COMMAND 0x08	/* the last write went to 0x64, not 0x60 */
#define STATUS_NOT_INHIBITED 0x10	/* keylock switch open: Linux warns otherwise */
#define STATUS_AUX_DATA 0x20		/* the output byte came from the auxiliary port */
#define STATUS_TIMEOUT 0x40		/* the device did not answer (the output byte is 0xfe) */

/* Controller command byte (CTR: commands 0x20 and 0x60). */
#define CTR_KEYBOARD_INTERRUPT 0x01
#define CTR_AUX_INTERRUPT 0x02
#define CTR_SYSTEM 0x04			/* set by the power-on self test */
#define CTR_KEYBOARD_DISABLED 0x10
#define CTR_AUX_DISABLED 0x20
#define CTR_TRANSLATE 0x40		/* keyboard bytes translated from set 2 to set 1 */
/* As a BIOS leaves it after POST: translation on, keyboard interrupt on, mouse port off. */
#define CTR_AT_POWER_ON (CTR_TRANSLATE | CTR_AUX_DISABLED | CTR_SYSTEM | CTR_KEYBOARD_INTERRUPT)

/* Output port (commands 0xd0, 0xd1). Bit 0 drives the CPU's reset line (0: reset). A20
 * (bit 1) is stored but not modelled: guest memory is never wrapped at 1 MiB. */
#define OUTPUT_RESET_RELEASED 0x01
#define OUTPUT_A20 0x02
#define OUTPUT_KEYBOARD_FULL 0x10	/* IRQ 1 line: output buffer holds a keyboard byte */
#define OUTPUT_AUX_FULL 0x20		/* IRQ 12 line: output buffer holds an aux byte */
#define OUTPUT_AT_POWER_ON (OUTPUT_RESET_RELEASED | OUTPUT_A20)
#define INPUT_PORT_NOT_INHIBITED 0x80	/* input port bit 7: keylock switch open */

/* Controller commands (written to 0x64). */
#define CMD_READ_CTR 0x20
#define CMD_WRITE_CTR 0x60
#define CMD_DISABLE_AUX 0xa7
#define CMD_ENABLE_AUX 0xa8
#define CMD_TEST_AUX_INTERFACE 0xa9
#define CMD_SELF_TEST 0xaa
#define CMD_TEST_KEYBOARD_INTERFACE 0xab
#define CMD_DISABLE_KEYBOARD 0xad
#define CMD_ENABLE_KEYBOARD 0xae
#define CMD_READ_INPUT_PORT 0xc0
#define CMD_READ_OUTPUT_PORT 0xd0
#define CMD_WRITE_OUTPUT_PORT 0xd1
#define CMD_WRITE_KEYBOARD_BUFFER 0xd2
#define CMD_WRITE_AUX_BUFFER 0xd3
#define CMD_WRITE_AUX_DEVICE 0xd4
#define CMD_PULSE_OUTPUT_FIRST 0xf0	/* 0xf0-0xff: pulse low the output bits clear in 3:0 */
#define SELF_TEST_PASSED 0x55
#define INTERFACE_TEST_PASSED 0x00
#define AUX_TRANSMIT_TIMEOUT 0xfe	/* with STATUS_TIMEOUT: no device took the byte */

/* Keyboard commands (written to 0x60) and its replies. */
#define KBD_SET_LEDS 0xed
#define KBD_ECHO 0xee
#define KBD_SCANCODE_SET 0xf0		/* parameter 0: report the set; 1-3: select it */
#define KBD_IDENTIFY 0xf2
#define KBD_SET_TYPEMATIC 0xf3
#define KBD_ENABLE 0xf4
#define KBD_DISABLE 0xf5		/* also restores the default typematic rate */
#define KBD_SET_DEFAULTS 0xf6
#define KBD_SET_ALL_KEYS_LAST 0xfa	/* 0xf7-0xfa: set 3 key types for all keys */
#define KBD_RESET 0xff
#define KBD_PARAMETER_MAX 0x7f		/* a byte above is a new command, not a parameter */
#define KBD_REPLY_ACK 0xfa
#define KBD_REPLY_RESEND 0xfe
#define KBD_REPLY_BAT_PASSED 0xaa
#define KBD_REPLY_ID_FIRST 0xab
#define KBD_REPLY_ID_SECOND 0x83
#define KBD_DEFAULT_SET 2

/*
 * Bytes waiting for the guest: the controller's output buffer is the head, the rest are
 * what the keyboard and the controller still hold. Invariant: fewer than the 16 bytes
 * Linux's i8042_flush() reads before it decides there is no controller; 8 hold the longest
 * reply (3 bytes) with room for a few unread ones. Bytes past that are dropped.
 */
#define OUTPUT_QUEUE_BYTES 8

struct output_byte {
	u8 value;
	u8 status;		/* STATUS_AUX_DATA and STATUS_TIMEOUT while it is the head */
};

struct vi8042 {
	struct io_device data_io, command_io;
	struct vm *vm;
	u8 ctr, output_port;
	u8 controller_command;	/* a command waiting for its data byte at 0x60, or 0 */
	u8 keyboard_command;	/* a keyboard command waiting for its parameter, or 0 */
	u8 scancode_set;
	u8 last_output;		/* what 0x60 reads while the output buffer is empty */
	bool last_write_was_command;
	unsigned queue_head, queue_count;
	struct output_byte queue[OUTPUT_QUEUE_BYTES];
};

static const struct output_byte *output_buffer(const struct vi8042 *kbc)
{
	return kbc->queue_count ? &kbc->queue[kbc->queue_head] : NULL;
}

static void pulse_irq(struct vm *vm, unsigned line)
{
	vdev_set_irq(vm, line, true);
	vdev_set_irq(vm, line, false);
}

static bool from_aux(const struct output_byte *byte)
{
	return byte->status & STATUS_AUX_DATA;
}

/* The CTR bit that lets byte interrupt: controller replies go out on the keyboard's line. */
static u8 interrupt_enable_bit(const struct output_byte *byte)
{
	return from_aux(byte) ? CTR_AUX_INTERRUPT : CTR_KEYBOARD_INTERRUPT;
}

/* The head byte just entered the output buffer: one edge on its port's line, if that
 * port's interrupt is enabled. */
static void signal_output(struct vi8042 *kbc)
{
	const struct output_byte *head = output_buffer(kbc);

	if (kbc->ctr & interrupt_enable_bit(head))
		pulse_irq(kbc->vm, from_aux(head) ? I8042_IRQ_AUX : VDEV_IRQ_KEYBOARD);
}

static void queue_output(struct vi8042 *kbc, u8 value, u8 status)
{
	if (kbc->queue_count == OUTPUT_QUEUE_BYTES) {
		pr_debug("vi8042: vm %s: output byte %#x dropped (%u unread)\n", kbc->vm->name,
			 value, kbc->queue_count);
		return;
	}
	unsigned tail = (kbc->queue_head + kbc->queue_count) % OUTPUT_QUEUE_BYTES;

	kbc->queue[tail] = (struct output_byte){ .value = value, .status = status };
	if (++kbc->queue_count == 1)
		signal_output(kbc);
}

static void controller_reply(struct vi8042 *kbc, u8 value)
{
	queue_output(kbc, value, 0);
}

/* The guest read 0x60: the next byte, if any, moves into the output buffer. */
static u8 read_output_buffer(struct vi8042 *kbc)
{
	const struct output_byte *head = output_buffer(kbc);

	if (!head)
		return kbc->last_output;
	kbc->last_output = head->value;
	kbc->queue_head = (kbc->queue_head + 1) % OUTPUT_QUEUE_BYTES;
	if (--kbc->queue_count)
		signal_output(kbc);
	return kbc->last_output;
}

static u8 read_status(const struct vi8042 *kbc)
{
	const struct output_byte *head = output_buffer(kbc);
	u8 status = STATUS_NOT_INHIBITED;

	if (kbc->ctr & CTR_SYSTEM)
		status |= STATUS_SYSTEM;
	if (kbc->last_write_was_command)
		status |= STATUS_LAST_WAS_COMMAND;
	if (head)
		status |= STATUS_OUTPUT_FULL | head->status;
	return status;
}

/* ---- The keyboard. ---- */

/* With CTR_TRANSLATE the controller turns set 2 codes into set 1 codes (bytes from 0x80
 * up pass unchanged, except 0x83). The keyboard has no keys, so only the bytes it ever
 * sends need the table: its replies, and the scancode set numbers 1-3. */
static u8 translated(const struct vi8042 *kbc, u8 byte)
{
	if (!(kbc->ctr & CTR_TRANSLATE))
		return byte;
	switch (byte) {
	case 0x01:
		return 0x43;
	case 0x02:
	case 0x83:
		return 0x41;
	case 0x03:
		return 0x3f;
	default:
		return byte;
	}
}

static void keyboard_reply(struct vi8042 *kbc, u8 byte)
{
	queue_output(kbc, translated(kbc, byte), 0);
}

static void keyboard_parameter(struct vi8042 *kbc, u8 command, u8 value)
{
	/* The LED state and the typematic rate have nothing to show them on. */
	if (command != KBD_SCANCODE_SET) {
		keyboard_reply(kbc, KBD_REPLY_ACK);
		return;
	}
	if (value > 3) {
		keyboard_reply(kbc, KBD_REPLY_RESEND);
		return;
	}
	keyboard_reply(kbc, KBD_REPLY_ACK);
	if (value == 0)
		keyboard_reply(kbc, kbc->scancode_set);
	else
		kbc->scancode_set = value;
}

static void keyboard_command(struct vi8042 *kbc, u8 command)
{
	switch (command) {
	case KBD_SET_LEDS:
	case KBD_SET_TYPEMATIC:
	case KBD_SCANCODE_SET:
		kbc->keyboard_command = command;
		keyboard_reply(kbc, KBD_REPLY_ACK);
		break;
	case KBD_ECHO:
		keyboard_reply(kbc, KBD_ECHO);
		break;
	case KBD_IDENTIFY:
		keyboard_reply(kbc, KBD_REPLY_ACK);
		keyboard_reply(kbc, KBD_REPLY_ID_FIRST);
		keyboard_reply(kbc, KBD_REPLY_ID_SECOND);
		break;
	case KBD_RESET:
		kbc->scancode_set = KBD_DEFAULT_SET;
		keyboard_reply(kbc, KBD_REPLY_ACK);
		keyboard_reply(kbc, KBD_REPLY_BAT_PASSED);
		break;
	case KBD_ENABLE ... KBD_SET_ALL_KEYS_LAST:
		keyboard_reply(kbc, KBD_REPLY_ACK);	/* no keys: scanning changes nothing */
		break;
	default:
		keyboard_reply(kbc, KBD_REPLY_RESEND);
		break;
	}
}

/* A byte the guest sent to the keyboard. Sending re-enables the keyboard interface, as
 * the controller must release the clock line to transmit. */
static void keyboard_write(struct vi8042 *kbc, u8 value)
{
	u8 pending = kbc->keyboard_command;

	kbc->ctr &= ~CTR_KEYBOARD_DISABLED;
	kbc->keyboard_command = 0;
	if (pending && value <= KBD_PARAMETER_MAX)
		keyboard_parameter(kbc, pending, value);
	else
		keyboard_command(kbc, value);
}

/* ---- The controller. ---- */

static void reset_machine(struct vi8042 *kbc)
{
	vm_stop(kbc->vm, 0,
		"the guest reset the machine through the i8042 keyboard controller (reboot)");
}

/* Enabling a port's interrupt while its byte waits in the output buffer raises it. */
static void write_ctr(struct vi8042 *kbc, u8 value)
{
	u8 newly_enabled = value & ~kbc->ctr;
	const struct output_byte *head = output_buffer(kbc);

	kbc->ctr = value;
	if (head && (newly_enabled & interrupt_enable_bit(head)))
		signal_output(kbc);
}

static u8 read_output_port(const struct vi8042 *kbc)
{
	const struct output_byte *head = output_buffer(kbc);
	u8 value = kbc->output_port & ~(OUTPUT_KEYBOARD_FULL | OUTPUT_AUX_FULL);

	if (head)
		value |= from_aux(head) ? OUTPUT_AUX_FULL : OUTPUT_KEYBOARD_FULL;
	return value;
}

static void write_output_port(struct vi8042 *kbc, u8 value)
{
	kbc->output_port = value;
	if (!(value & OUTPUT_RESET_RELEASED))
		reset_machine(kbc);
}

/* The data byte of a command that takes one. No auxiliary device answers 0xd4: the
 * controller reports a transmit timeout (0xfe with STATUS_TIMEOUT, from the aux port),
 * which Linux's psmouse takes as "no mouse" at once, without waiting or warning. */
static void command_data(struct vi8042 *kbc, u8 command, u8 value)
{
	switch (command) {
	case CMD_WRITE_CTR:
		write_ctr(kbc, value);
		break;
	case CMD_WRITE_OUTPUT_PORT:
		write_output_port(kbc, value);
		break;
	case CMD_WRITE_KEYBOARD_BUFFER:
		queue_output(kbc, value, 0);
		break;
	case CMD_WRITE_AUX_BUFFER:
		queue_output(kbc, value, STATUS_AUX_DATA);
		break;
	case CMD_WRITE_AUX_DEVICE:
		queue_output(kbc, AUX_TRANSMIT_TIMEOUT, STATUS_AUX_DATA | STATUS_TIMEOUT);
		break;
	}
}

/* 0xf0-0xff pulse the output port bits whose command bit is clear; only bit 0, the reset
 * line, is wired to anything. */
static void pulse_output_port(struct vi8042 *kbc, u8 command)
{
	if (!(command & OUTPUT_RESET_RELEASED))
		reset_machine(kbc);
}

/*
 * The auxiliary interface test (0xa9) passes: the port is there, nothing is plugged in.
 * Linux only asks when the 0xd3 loopback fails, which it does not; it then registers
 * the AUX port and its mouse probe ends at the first 0xd4 (see command_data()).
 */
static void controller_command(struct vi8042 *kbc, u8 command)
{
	kbc->controller_command = 0;
	switch (command) {
	case CMD_READ_CTR:
		controller_reply(kbc, kbc->ctr);
		break;
	case CMD_WRITE_CTR:
	case CMD_WRITE_OUTPUT_PORT:
	case CMD_WRITE_KEYBOARD_BUFFER:
	case CMD_WRITE_AUX_BUFFER:
	case CMD_WRITE_AUX_DEVICE:
		kbc->controller_command = command;
		break;
	case CMD_DISABLE_AUX:
		kbc->ctr |= CTR_AUX_DISABLED;
		break;
	case CMD_ENABLE_AUX:
		kbc->ctr &= ~CTR_AUX_DISABLED;
		break;
	case CMD_TEST_AUX_INTERFACE:
	case CMD_TEST_KEYBOARD_INTERFACE:
		controller_reply(kbc, INTERFACE_TEST_PASSED);
		break;
	case CMD_SELF_TEST:
		controller_reply(kbc, SELF_TEST_PASSED);
		break;
	case CMD_DISABLE_KEYBOARD:
		kbc->ctr |= CTR_KEYBOARD_DISABLED;
		break;
	case CMD_ENABLE_KEYBOARD:
		kbc->ctr &= ~CTR_KEYBOARD_DISABLED;
		break;
	case CMD_READ_INPUT_PORT:
		controller_reply(kbc, INPUT_PORT_NOT_INHIBITED);
		break;
	case CMD_READ_OUTPUT_PORT:
		controller_reply(kbc, read_output_port(kbc));
		break;
	case CMD_PULSE_OUTPUT_FIRST ... 0xff:
		pulse_output_port(kbc, command);
		break;
	default:
		pr_debug("vi8042: vm %s: command %#x ignored\n", kbc->vm->name, command);
		break;
	}
}

static void data_write(struct vi8042 *kbc, u8 value)
{
	u8 command = kbc->controller_command;

	kbc->last_write_was_command = false;
	kbc->controller_command = 0;
	if (command)
		command_data(kbc, command, value);
	else
		keyboard_write(kbc, value);
}

/* ---- Port I/O: one byte-wide register at each of 0x60 and 0x64. ---- */

static u8 data_read_byte(struct io_device *dev, u64 offset)
{
	return read_output_buffer(dev->opaque);
}

static void data_write_byte(struct io_device *dev, u64 offset, u8 value)
{
	data_write(dev->opaque, value);
}

static u8 command_read_byte(struct io_device *dev, u64 offset)
{
	return read_status(dev->opaque);
}

static void command_write_byte(struct io_device *dev, u64 offset, u8 value)
{
	struct vi8042 *kbc = dev->opaque;

	kbc->last_write_was_command = true;
	controller_command(kbc, value);
}

static u64 data_read(struct io_device *dev, u64 offset, unsigned size)
{
	return vdev_read_bytewise(dev, offset, size, data_read_byte);
}

static void data_write_port(struct io_device *dev, u64 offset, unsigned size, u64 value)
{
	vdev_write_bytewise(dev, offset, size, value, data_write_byte);
}

static u64 command_read(struct io_device *dev, u64 offset, unsigned size)
{
	return vdev_read_bytewise(dev, offset, size, command_read_byte);
}

static void command_write(struct io_device *dev, u64 offset, unsigned size, u64 value)
{
	vdev_write_bytewise(dev, offset, size, value, command_write_byte);
}

static const struct io_device_ops data_ops = { .read = data_read, .write = data_write_port };
static const struct io_device_ops command_ops = { .read = command_read,
						  .write = command_write };

struct vi8042 *vi8042_create(struct vm *vm)
{
	struct vi8042 *kbc = kmalloc(sizeof(*kbc));

	if (!kbc)
		return NULL;
	*kbc = (struct vi8042){ .vm = vm, .ctr = CTR_AT_POWER_ON,
				.output_port = OUTPUT_AT_POWER_ON,
				.scancode_set = KBD_DEFAULT_SET };
	if (!vdev_attach(&vm->pio_bus, &kbc->data_io, "i8042 data", VDEV_I8042_DATA_PORT, 1,
			 &data_ops, kbc) ||
	    !vdev_attach(&vm->pio_bus, &kbc->command_io, "i8042 status/command",
			 VDEV_I8042_COMMAND_PORT, 1, &command_ops, kbc)) {
		kfree(kbc);
		return NULL;
	}
	return kbc;
}

void vi8042_destroy(struct vi8042 *kbc)
{
	kfree(kbc);
}
