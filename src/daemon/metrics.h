/* /metrics in the Prometheus text exposition format (version 0.0.4). */
#ifndef VG_DAEMON_METRICS_H
#define VG_DAEMON_METRICS_H

#include <stddef.h>

#include "daemon/center.h"
#include "net/gateway.h"

struct evbuffer;

void vg_metrics_render(struct evbuffer *out, const struct vg_center_metrics *c,
                       const struct vg_gateway_stats *g, size_t store_pending);

#endif
