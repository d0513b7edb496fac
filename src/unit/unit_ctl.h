/* The unit's local control socket: what the buttons and sensors of a real
 * unit would say, typed by a person or a test (`vigie-unit ctl PATH sos`).
 * A Unix stream socket, one command a line, one reply a line:
 *   sos | callback                      the buttons (protected unit)
 *   strap 0|1 | skin 0|1 | link 0|1     the bracelet (author's unit)
 *   charging 0|1 | battery PCT          power
 *   power 0|1                           switch off / on
 *   beacon RANGE_M | beacon none        the bracelet's beacon heard (protected unit)
 *   status                              a JSON object: the unit's state and counters
 * Replies: "ok", "error: WHY" or the status JSON. */
#ifndef VG_UNIT_UNIT_CTL_H
#define VG_UNIT_UNIT_CTL_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "unit/unit.h"
#include "unit/unit_link.h"

struct vg_unit_ctl {
    struct evconnlistener *listener;
    struct vg_mobile_unit *unit;
    struct vg_unit_link *link; /* stepped after each command (may be NULL) */
    const char *serial;
    char path[108];
};

/* Execute one command line for unit u at now_ms; the reply (no newline)
 * goes to reply. Returns VG_OK or the error the reply explains. */
int vg_unit_ctl_execute(struct vg_mobile_unit *u, const char *serial, const char *line,
                        int64_t now_ms, char *reply, size_t cap);

/* Listen on path (an existing socket file there is replaced; mode 0600). */
int vg_unit_ctl_open(struct vg_unit_ctl *c, struct event_base *base, const char *path,
                     struct vg_mobile_unit *u, struct vg_unit_link *link, const char *serial,
                     char *err, size_t errlen);
void vg_unit_ctl_close(struct vg_unit_ctl *c);

#endif
