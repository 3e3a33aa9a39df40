/* SPDX-License-Identifier: MIT */
/*
 * Text a profile carries (name, description, source) comes from files anyone can write.  Every
 * output - terminal, JSON, SVG - needs well-formed UTF-8 without control characters, so such
 * text is cleaned once, the same way for every output: each invalid byte sequence (RFC 3629:
 * overlong forms, surrogates, code points above U+10FFFF, stray or missing continuation bytes)
 * and each control character except TAB becomes U+FFFD.
 */
#include <string.h>

#include <vxsave/arch.h>

static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

/*
 * Bytes of the well-formed sequence at @s (at most @len bytes), or 0 if it is malformed (then
 * only its first byte is replaced, as Unicode's "maximal subpart" practice suggests).
 * *@printable says whether the character is one to keep (not a C0/C1 control or DEL).
 */
static size_t sequence_length(const unsigned char *s, size_t len, bool *printable)
{
	uint32_t cp;
	size_t need;

	if (s[0] < 0x80) {
		*printable = (s[0] >= 0x20 && s[0] != 0x7F) || s[0] == '\t';
		return 1;
	}
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		need = 2, cp = s[0] & 0x1Fu;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		need = 3, cp = s[0] & 0x0Fu;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		need = 4, cp = s[0] & 0x07u;
	else
		return 0;
	if (len < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3Fu);
	}
	/* Overlong three/four-byte forms, UTF-16 surrogates, beyond Unicode. */
	if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) || cp > 0x10FFFF ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	*printable = !(cp >= 0x80 && cp <= 0x9F);
	return need;
}

unsigned vx_utf8_sanitize(const char *in, char *out, size_t size)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t len = 0, used = 0;
	unsigned replaced = 0;

	if (!out || !size)
		return 0;
	while (s && s[len])
		len++;
	for (size_t i = 0; i < len;) {
		bool printable = false;
		size_t n = sequence_length(s + i, len - i, &printable);
		bool keep = n && printable;
		const char *piece = keep ? (const char *)s + i : replacement;
		size_t piece_len = keep ? n : sizeof(replacement) - 1;

		/* Never cut a character: stop where the next one does not fit. */
		if (used + piece_len >= size)
			break;
		memcpy(out + used, piece, piece_len);
		used += piece_len;
		replaced += keep ? 0 : 1;
		i += n ? n : 1;
	}
	out[used] = '\0';
	return replaced;
}

/* Clean @field (of @size bytes) in place. */
static void sanitize_field(char *field, size_t size)
{
	char clean[VX_PROFILE_SOURCE_MAX];

	vx_utf8_sanitize(field, clean, size < sizeof(clean) ? size : sizeof(clean));
	memcpy(field, clean, strlen(clean) + 1);
}

void vx_profile_sanitize_text(struct vx_profile *profile)
{
	sanitize_field(profile->name, sizeof(profile->name));
	sanitize_field(profile->description, sizeof(profile->description));
	sanitize_field(profile->source, sizeof(profile->source));
}
