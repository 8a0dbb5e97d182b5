/* vsnprintf/snprintf for the hypervisor: C99's integer, character, string and pointer
 * conversions (no floating point), safe to call from any context, including panic. */
#include "lib/printf.h"
#include "lib/string.h"

/* Enough digits for a 64-bit value in the smallest base we print (octal: 22 digits). */
#define MAX_DIGITS 22

/* Where output goes: bytes beyond size-1 are counted but not stored, so len ends up as
 * the length the whole output would have had. */
struct output {
	char *buf;
	size_t size;
	size_t len;
};

enum length_modifier {
	LEN_INT, LEN_CHAR, LEN_SHORT, LEN_LONG, LEN_LONG_LONG, LEN_SIZE, LEN_PTRDIFF, LEN_INTMAX,
};

/* One conversion specification, as in C99 7.19.6.1. */
struct conversion {
	bool left_justify;	/* '-' */
	bool zero_pad;		/* '0' */
	bool space_sign;	/* ' ' */
	bool plus_sign;		/* '+' */
	bool alternate;		/* '#' */
	int width;		/* 0 when none */
	int precision;		/* -1 when none */
	enum length_modifier length;
	char specifier;		/* '\0' when the format ended inside the specification */
};

static void out_char(struct output *out, char c)
{
	/* One byte is always kept for the terminating NUL. */
	if (out->len + 1 < out->size)
		out->buf[out->len] = c;
	out->len++;
}

static void out_bytes(struct output *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out_char(out, s[i]);
}

static void out_repeat(struct output *out, char c, int count)
{
	for (int i = 0; i < count; i++)
		out_char(out, c);
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Reads a decimal field width or precision, saturating instead of overflowing. */
static const char *parse_decimal(const char *fmt, int *value)
{
	int v = 0;

	for (; is_digit(*fmt); fmt++)
		v = v > (__INT_MAX__ - 9) / 10 ? __INT_MAX__ : v * 10 + (*fmt - '0');
	*value = v;
	return fmt;
}

static const char *parse_flags(const char *fmt, struct conversion *conv)
{
	for (;; fmt++) {
		switch (*fmt) {
		case '-': conv->left_justify = true; break;
		case '0': conv->zero_pad = true; break;
		case ' ': conv->space_sign = true; break;
		case '+': conv->plus_sign = true; break;
		case '#': conv->alternate = true; break;
		default: return fmt;
		}
	}
}

/* A negative '*' width means '-' plus its absolute value (C99 7.19.6.1p5). */
static const char *parse_width(const char *fmt, va_list *ap, struct conversion *conv)
{
	if (*fmt != '*')
		return parse_decimal(fmt, &conv->width);
	int width = va_arg(*ap, int);
	if (width < 0) {
		conv->left_justify = true;
		width = width == -__INT_MAX__ - 1 ? __INT_MAX__ : -width;
	}
	conv->width = width;
	return fmt + 1;
}

/* A negative '*' precision counts as no precision at all (C99 7.19.6.1p5). */
static const char *parse_precision(const char *fmt, va_list *ap, struct conversion *conv)
{
	conv->precision = -1;
	if (*fmt != '.')
		return fmt;
	fmt++;
	if (*fmt != '*')
		return parse_decimal(fmt, &conv->precision);
	int precision = va_arg(*ap, int);
	conv->precision = precision < 0 ? -1 : precision;
	return fmt + 1;
}

static const char *parse_length(const char *fmt, struct conversion *conv)
{
	switch (*fmt) {
	case 'h':
		if (fmt[1] == 'h') {
			conv->length = LEN_CHAR;
			return fmt + 2;
		}
		conv->length = LEN_SHORT;
		return fmt + 1;
	case 'l':
		if (fmt[1] == 'l') {
			conv->length = LEN_LONG_LONG;
			return fmt + 2;
		}
		conv->length = LEN_LONG;
		return fmt + 1;
	case 'z': conv->length = LEN_SIZE; return fmt + 1;
	case 't': conv->length = LEN_PTRDIFF; return fmt + 1;
	case 'j': conv->length = LEN_INTMAX; return fmt + 1;
	default: conv->length = LEN_INT; return fmt;
	}
}

/* Parses what follows a '%'; returns the position after the conversion specifier. */
static const char *parse_conversion(const char *fmt, va_list *ap, struct conversion *conv)
{
	*conv = (struct conversion){ 0 };
	fmt = parse_flags(fmt, conv);
	fmt = parse_width(fmt, ap, conv);
	fmt = parse_precision(fmt, ap, conv);
	fmt = parse_length(fmt, conv);
	conv->specifier = *fmt;
	return *fmt ? fmt + 1 : fmt;
}

static u64 fetch_unsigned(va_list *ap, enum length_modifier length)
{
	switch (length) {
	case LEN_CHAR: return (unsigned char)va_arg(*ap, unsigned int);
	case LEN_SHORT: return (unsigned short)va_arg(*ap, unsigned int);
	case LEN_LONG: return va_arg(*ap, unsigned long);
	case LEN_LONG_LONG: return va_arg(*ap, unsigned long long);
	case LEN_SIZE: return va_arg(*ap, size_t);
	case LEN_PTRDIFF: return (u64)va_arg(*ap, ptrdiff_t);
	case LEN_INTMAX: return va_arg(*ap, uintmax_t);
	default: return va_arg(*ap, unsigned int);
	}
}

static s64 fetch_signed(va_list *ap, enum length_modifier length)
{
	switch (length) {
	case LEN_CHAR: return (signed char)va_arg(*ap, int);
	case LEN_SHORT: return (short)va_arg(*ap, int);
	case LEN_LONG: return va_arg(*ap, long);
	case LEN_LONG_LONG: return va_arg(*ap, long long);
	case LEN_SIZE: return (s64)va_arg(*ap, size_t);
	case LEN_PTRDIFF: return va_arg(*ap, ptrdiff_t);
	case LEN_INTMAX: return va_arg(*ap, intmax_t);
	default: return va_arg(*ap, int);
	}
}

/* Writes value's digits least significant first; returns how many. */
static int digits_reversed(char *digits, u64 value, unsigned int base, bool upper)
{
	const char *symbols = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	int n = 0;

	do {
		digits[n++] = symbols[value % base];
		value /= base;
	} while (value);
	return n;
}

/* Lays out [spaces][prefix][zeros][digits][spaces] for one integer conversion. */
static void format_integer(struct output *out, const struct conversion *conv,
			   u64 magnitude, unsigned int base, const char *prefix)
{
	char digits[MAX_DIGITS];
	int ndigits = 0;

	/* An explicit zero precision prints no digits for zero (C99 7.19.6.1p8). */
	if (magnitude != 0 || conv->precision != 0)
		ndigits = digits_reversed(digits, magnitude, base, conv->specifier == 'X');

	int prefix_len = (int)strlen(prefix);
	int zeros = conv->precision > ndigits ? conv->precision - ndigits : 0;
	/* '#' with 'o' raises the precision just enough for the first digit to be 0. */
	if (conv->alternate && base == 8 && zeros == 0 &&
	    (ndigits == 0 || digits[ndigits - 1] != '0'))
		zeros = 1;
	int body = prefix_len + zeros + ndigits;
	/* The '0' flag is ignored with '-' or with a precision (C99 7.19.6.1p6). */
	if (conv->zero_pad && !conv->left_justify && conv->precision < 0 && conv->width > body) {
		zeros += conv->width - body;
		body = conv->width;
	}
	int padding = conv->width > body ? conv->width - body : 0;

	if (!conv->left_justify)
		out_repeat(out, ' ', padding);
	out_bytes(out, prefix, prefix_len);
	out_repeat(out, '0', zeros);
	while (ndigits > 0)
		out_char(out, digits[--ndigits]);
	if (conv->left_justify)
		out_repeat(out, ' ', padding);
}

static void format_signed(struct output *out, const struct conversion *conv, va_list *ap)
{
	s64 value = fetch_signed(ap, conv->length);
	/* Negating in u64 keeps INT64_MIN well defined. */
	u64 magnitude = value < 0 ? -(u64)value : (u64)value;
	const char *sign = value < 0 ? "-" : conv->plus_sign ? "+" : conv->space_sign ? " " : "";

	format_integer(out, conv, magnitude, 10, sign);
}

static void format_unsigned(struct output *out, const struct conversion *conv, va_list *ap)
{
	u64 value = fetch_unsigned(ap, conv->length);
	unsigned int base = conv->specifier == 'u' ? 10 : conv->specifier == 'o' ? 8 : 16;
	const char *prefix = "";

	if (conv->alternate && base == 16 && value != 0)
		prefix = conv->specifier == 'X' ? "0X" : "0x";
	format_integer(out, conv, value, base, prefix);
}

static void format_pointer(struct output *out, const struct conversion *conv, va_list *ap)
{
	u64 value = (uintptr_t)va_arg(*ap, void *);

	format_integer(out, conv, value, 16, "0x");
}

/* Pads a run of bytes to the field width ('0' pads only numbers). */
static void format_padded(struct output *out, const struct conversion *conv,
			  const char *s, size_t len)
{
	int padding = (size_t)conv->width > len ? conv->width - (int)len : 0;

	if (!conv->left_justify)
		out_repeat(out, ' ', padding);
	out_bytes(out, s, len);
	if (conv->left_justify)
		out_repeat(out, ' ', padding);
}

static void format_string(struct output *out, const struct conversion *conv, va_list *ap)
{
	const char *s = va_arg(*ap, const char *);

	if (!s)
		s = "(null)";
	size_t len = conv->precision >= 0 ? strnlen(s, conv->precision) : strlen(s);
	format_padded(out, conv, s, len);
}

static void format_char(struct output *out, const struct conversion *conv, va_list *ap)
{
	char c = (char)va_arg(*ap, int);

	format_padded(out, conv, &c, 1);
}

/* Returns false for a specifier we do not know, so the caller can print it verbatim. */
static bool format_conversion(struct output *out, const struct conversion *conv, va_list *ap)
{
	switch (conv->specifier) {
	case 'd':
	case 'i':
		format_signed(out, conv, ap);
		return true;
	case 'u':
	case 'o':
	case 'x':
	case 'X':
		format_unsigned(out, conv, ap);
		return true;
	case 'p':
		format_pointer(out, conv, ap);
		return true;
	case 's':
		format_string(out, conv, ap);
		return true;
	case 'c':
		format_char(out, conv, ap);
		return true;
	case '%':
		out_char(out, '%');
		return true;
	default:
		return false;
	}
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct output out = { .buf = buf, .size = size, .len = 0 };
	struct conversion conv;
	va_list args;

	/* A copy, so helpers can take its address and consume arguments in order. */
	va_copy(args, ap);
	while (*fmt) {
		if (*fmt != '%') {
			out_char(&out, *fmt++);
			continue;
		}
		const char *start = fmt;
		fmt = parse_conversion(fmt + 1, &args, &conv);
		if (!format_conversion(&out, &conv, &args))
			out_bytes(&out, start, fmt - start);
	}
	va_end(args);

	if (size > 0)
		buf[MIN(out.len, size - 1)] = '\0';
	return out.len > __INT_MAX__ ? -1 : (int)out.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int len = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return len;
}
