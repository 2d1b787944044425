/* logmask.c: how sensitive log lines are shown to those who may not see
 * them. Pure: no I/O. */
#include <cJSON.h>

#include "cgi.h"

/*
 * Replace each run of consecutive sensitive lines in the array lines with
 * one placeholder {"seq": first, "last_seq": last, "sensitive": true,
 * "text": "<sensitive information hidden>"}. Lines carry "seq",
 * "sensitive" and "text". Returns 0, or -1 when memory ran out.
 */
int
log_collapse_sensitive(cJSON *lines)
{
	cJSON	*it, *next, *run = NULL, *seq;

	for (it = lines->child; it != NULL; it = next) {
		next = it->next;
		if (!cJSON_IsTrue(cJSON_GetObjectItem(it, "sensitive"))) {
			run = NULL;
			continue;
		}
		seq = cJSON_GetObjectItem(it, "seq");
		if (run != NULL) {
			cJSON_ReplaceItemInObject(run, "last_seq",
			    cJSON_CreateNumber(seq != NULL ?
			    seq->valuedouble : 0));
			cJSON_Delete(cJSON_DetachItemViaPointer(lines, it));
			continue;
		}
		if ((run = cJSON_CreateObject()) == NULL)
			return -1;
		cJSON_AddNumberToObject(run, "seq", seq != NULL ?
		    seq->valuedouble : 0);
		cJSON_AddNumberToObject(run, "last_seq", seq != NULL ?
		    seq->valuedouble : 0);
		cJSON_AddBoolToObject(run, "sensitive", 1);
		cJSON_AddStringToObject(run, "text",
		    "<sensitive information hidden>");
		cJSON_ReplaceItemViaPointer(lines, it, run);
	}
	return 0;
}
