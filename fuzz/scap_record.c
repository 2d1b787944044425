/*
 * fuzz/scap_record.c: libFuzzer harness for scap's SPIDERPIG_IO record
 * parser (worker/scap.c). The input is one stdout line (at most LINES_MAX
 * bytes, as the worker cuts them); the key is FZ_KEY, which the seeds in
 * fuzz/corpus/scap_record/ carry. The oracle: a line without the key is
 * never a record; a record's text is what a text column and a page may
 * take (valid UTF-8, no control characters but a prompt's newlines, within
 * its cap); choices are 1 to 16 with keys of printable ASCII that can go
 * back on scap's stdin as one line; defaults, roles and recognised steps
 * stay within their sets.
 *
 * libFuzzer: `tools/fuzz scap_record` (builds with -DSPIDERPIG_LIBFUZZER).
 * Without it, main() replays each file named on the command line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lines.h"
#include "scap.h"
#include "vocab.h"

#define FZ_KEY	"5ca95ca95ca95ca95ca95ca95ca95ca95ca95ca95ca95ca95ca95ca95ca95ca9"

/* s is valid UTF-8 of at most max bytes, without control characters
 * (a newline allowed when newlines is set). */
static void
check_text(const char *s, size_t max, int newlines)
{
	size_t	 n = strlen(s), i = 0, k;

	if (n > max)
		abort();
	while (i < n) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x80) {
			if ((c < 0x20 && !(newlines && c == '\n')) || c == 0x7f)
				abort();
			i++;
			continue;
		}
		if ((k = utf8_valid_len((const unsigned char *)s + i,
		    n - i)) == 0)
			abort();
		i += k;
	}
}

static void
check_choices(const struct scap_record *rec)
{
	size_t	 i, j, n;
	int	 d;

	if (rec->nchoices < 1 || rec->nchoices > SCAP_MAX_CHOICES)
		abort();
	for (i = 0; i < rec->nchoices; i++) {
		check_text(rec->labels[i], SCAP_LABEL_MAX, 0);
		if (rec->labels[i][0] == '\0')
			abort();
		n = strlen(rec->keys[i]);
		if (n < 1 || n > SCAP_CHOICE_KEY_MAX)
			abort();
		for (j = 0; j < n; j++)
			if (rec->keys[i][j] <= 0x20 || rec->keys[i][j] >= 0x7f)
				abort();
		for (j = 0; j < i; j++)
			if (strcmp(rec->keys[i], rec->keys[j]) == 0)
				abort();
	}
	if (rec->dflt < -1 || rec->dflt >= (int)rec->nchoices)
		abort();
	d = scap_prompt_default(rec, scap_prompt_role(rec));
	if (d < 0 || d >= (int)rec->nchoices)
		abort();
}

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scap_record	 rec;
	const char		*st;
	char			*line;
	enum scap_type		 t;

	if (size > LINES_MAX)
		size = LINES_MAX;
	if ((line = malloc(size + 1)) == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	t = scap_record_parse(line, size, FZ_KEY, &rec);
	if (t != SCAP_PLAIN && memmem(line, size, FZ_KEY, 64) == NULL &&
	    memmem(line, size, "\\u", 2) == NULL)
		abort();	/* a record without the key */
	switch (t) {
	case SCAP_PLAIN:
		if (rec.text != NULL || rec.nchoices != 0)
			abort();
		break;
	case SCAP_BAD:
		if (rec.why == NULL || rec.text != NULL || rec.nchoices != 0)
			abort();
		break;
	case SCAP_LINE:
		if (rec.text == NULL || strlen(rec.text) > size)
			abort();
		break;
	case SCAP_STATUS:
		if (rec.text != NULL) {
			check_text(rec.text, SCAP_STATUS_MAX, 0);
			st = scap_state_of_status(rec.text);
			if (st != NULL && vocab_state(st) == NULL)
				abort();
		}
		break;
	case SCAP_PROGRESS:
		if (rec.progress != -1 && (rec.progress < 0 ||
		    rec.progress > 100))
			abort();
		break;
	case SCAP_INPUT:
		check_text(rec.text, SCAP_TEXT_MAX, 1);
		break;
	case SCAP_CHOICES:
		check_text(rec.text, SCAP_TEXT_MAX, 1);
		check_choices(&rec);
		break;
	}
	scap_record_free(&rec);
	free(line);
	return 0;
}

#define FUZZ_REPLAY_MAX	(LINES_MAX)
#include "replay.h"
