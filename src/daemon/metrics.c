#include "daemon/metrics.h"

#include <event2/buffer.h>

#include "core/alarm.h"
#include "core/proto.h"

static void counter(struct evbuffer *out, const char *name, const char *help, unsigned long long v)
{
    evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
                        v);
}

static void gauge(struct evbuffer *out, const char *name, const char *help, unsigned long long v)
{
    evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s gauge\n%s %llu\n", name, help, name, name, v);
}

static void histogram(struct evbuffer *out, const char *name, const char *help,
                      const struct vg_histogram *h)
{
    evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    unsigned long long cumulative = 0;
    for (size_t i = 0; i < VG_HIST_BUCKETS; i++) {
        cumulative += h->counts[i];
        evbuffer_add_printf(out, "%s_bucket{le=\"%g\"} %llu\n", name, vg_histogram_bounds_ms[i],
                            cumulative);
    }
    cumulative += h->counts[VG_HIST_BUCKETS];
    evbuffer_add_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name,
                        cumulative, name, h->sum, name, (unsigned long long)h->count);
}

void vg_metrics_render(struct evbuffer *out, const struct vg_center_metrics *c,
                       const struct vg_gateway_stats *g, size_t store_pending)
{
    gauge(out, "vigie_connections", "Unit connections open now.",
          g ? (unsigned long long)g->current : 0);
    if (g) {
        counter(out, "vigie_connections_accepted_total", "Unit connections accepted.", g->accepted);
        counter(out, "vigie_connections_refused_total",
                "Connections refused because max_connections was reached.", g->refused_full);
        counter(out, "vigie_tls_handshake_failures_total",
                "TLS handshakes that failed (no, bad or revoked certificate; not TLS 1.3).",
                g->handshake_failed);
        counter(out, "vigie_connection_timeouts_total",
                "Connections closed for a handshake, HELLO, frame or idle timeout.", g->timeouts);
        counter(out, "vigie_frames_received_total", "Frames received from units.", g->frames_in);
        counter(out, "vigie_frames_sent_total", "Frames sent to units.", g->frames_out);
        counter(out, "vigie_frames_rejected_total",
                "Frames refused (malformed, oversize, unexpected): the unit was disconnected.",
                g->frames_rejected);
        counter(out, "vigie_received_bytes_total", "Bytes of whole frames received.", g->bytes_in);
    }
    static const char *const types[] = {"", "fix", "status", "event", "heartbeat"};
    evbuffer_add_printf(out, "# HELP vigie_records_total Records received, new ones only.\n"
                             "# TYPE vigie_records_total counter\n");
    for (int t = 1; t <= 4; t++)
        evbuffer_add_printf(out, "vigie_records_total{type=\"%s\"} %llu\n", types[t],
                            (unsigned long long)c->records[t]);
    counter(out, "vigie_records_duplicate_total",
            "Records received again (already stored or in flight): stored once.",
            c->records_duplicate);
    counter(out, "vigie_records_rejected_total",
            "Records stored but refused by the engine (values out of range).", c->records_rejected);
    counter(out, "vigie_batches_committed_total", "Batches committed by the store.",
            c->batches_committed);
    counter(out, "vigie_batches_failed_total", "Batches the store could not commit.",
            c->batches_failed);
    gauge(out, "vigie_store_pending_batches", "Batches submitted and not yet committed.",
          store_pending);
    histogram(out, "vigie_commit_latency_ms", "From submission to durable commit, milliseconds.",
              &c->commit_ms);
    histogram(out, "vigie_alarm_latency_ms",
              "From the last byte of the frame in to the alarm durable, milliseconds.",
              &c->alarm_ms);
    evbuffer_add_printf(out, "# HELP vigie_alarms_total Alarms raised and stored, by kind.\n"
                             "# TYPE vigie_alarms_total counter\n");
    for (unsigned k = 1; k < VG_ALARM_KIND__COUNT; k++)
        evbuffer_add_printf(out, "vigie_alarms_total{kind=\"%s\"} %llu\n", vg_alarm_kind_name(k),
                            (unsigned long long)c->alarms[k]);
    counter(out, "vigie_commands_sent_total", "Commands sent to units.", c->commands_sent);
    counter(out, "vigie_commands_queued_total", "Commands kept for a unit that was not connected.",
            c->commands_queued);
    gauge(out, "vigie_measures", "Measures judged.", c->measures);
    gauge(out, "vigie_units", "Units known.", c->units);
    gauge(out, "vigie_units_connected", "Units connected now.", c->units_connected);
}
