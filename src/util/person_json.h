/* A person's file as JSON (the author or the protected person of a measure):
 * identity, phones, addresses, people to call in an emergency, household
 * (children, pets: what the police need to know before they go in), notes
 * for the police. Strict: unknown keys, wrong types, bad values and
 * oversize lists are refused with a message naming the key.
 *
 * {
 *   "identity": {"last_name": "Martin", "first_names": "Claire",
 *                "birth_date": "1988-04-02", "sex": "F"},        (sex optional: F, M, X)
 *   "phones": [{"label": "mobile", "number": "+33612345678"}],      (at most 8)
 *   "addresses": [{"label": "home", "text": "3 rue ..., 44000 Nantes",
 *                  "location": [47.2184, -1.5536]}],                (at most 8; location optional)
 *   "emergency_contacts": [{"name": "...", "relation": "sister",
 *                           "phone": "+33..."}],                    (at most 8)
 *   "household": {"children": [{"first_name": "...", "birth_date": "2015-09-01"}],
 *                 "pets": [{"kind": "dog", "name": "...", "notes": "..."}]},
 *   "police_notes": "..."                                           (at most 2000 bytes)
 * }
 * Only "identity" is required. Phone numbers: '+' and 6 to 15 digits
 * (E.164). Dates: YYYY-MM-DD, real days, not in the future. Texts: UTF-8
 * without control characters (police_notes may have line breaks). */
#ifndef VG_UTIL_PERSON_JSON_H
#define VG_UTIL_PERSON_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/civil.h"
#include "core/geo.h"

#define VG_PERSON_MAX_JSON (64 * 1024)

/* Check a person's file; on VG_OK *canonical is the same content as compact
 * JSON with sorted keys (to free), which is what the store keeps, and
 * display (if not NULL) receives "LAST_NAME First names". today_days: the
 * present day (days since 1970-01-01) for the dates. Otherwise a negative
 * vg_err and a message. */
int vg_person_json_check(const char *json, int64_t today_days, char **canonical, char *display,
                         size_t display_len, char *err, size_t err_len);

/* What the legal rules of a measure read from a person's (checked) file:
 * the birth date, and the location of the first address labelled "home"
 * that has one. A fact absent leaves its flag false. VG_EFORMAT if the
 * text is not a JSON object. */
int vg_person_json_facts(const char *json, struct vg_date *birth, bool *has_birth,
                         struct vg_geo_point *home, bool *has_home);

#endif
