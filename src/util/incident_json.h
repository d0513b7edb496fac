/* An incident (core/incident.h) as JSON: the one shape the queue, the
 * actions' answers, the journal's incident entries and the live stream
 * share, so that a console reads the same object wherever it comes from. */
#ifndef VG_UTIL_INCIDENT_JSON_H
#define VG_UTIL_INCIDENT_JSON_H

#include <jansson.h>

#include "core/incident.h"

/* A new object (NULL when out of memory); measure is the measure's name. */
json_t *vg_incident_to_json(const struct vg_incident *x, const char *measure);

#endif
