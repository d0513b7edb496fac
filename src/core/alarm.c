#include "core/alarm.h"

static const struct {
    const char *name;
    const char *label_fr;
} kinds[VG_ALARM_KIND__COUNT] = {
    [VG_ALARM_PREALERT_ENTERED] = {"prealert_entered", "Entrée en zone de pré-alerte"},
    [VG_ALARM_PREALERT_LEFT] = {"prealert_left", "Sortie de la zone de pré-alerte"},
    [VG_ALARM_ALERT_ENTERED] = {"alert_entered", "Entrée en zone d'alerte"},
    [VG_ALARM_ALERT_LEFT] = {"alert_left", "Sortie de la zone d'alerte"},
    [VG_ALARM_GNSS_LOST] = {"gnss_lost", "Perte du signal GPS"},
    [VG_ALARM_GNSS_RESTORED] = {"gnss_restored", "Signal GPS retrouvé"},
    [VG_ALARM_COMM_LOST] = {"comm_lost", "Perte de communication"},
    [VG_ALARM_COMM_RESTORED] = {"comm_restored", "Communication rétablie"},
    [VG_ALARM_BATTERY_LOW] = {"battery_low", "Batterie faible"},
    [VG_ALARM_BATTERY_CRITICAL] = {"battery_critical", "Batterie critique"},
    [VG_ALARM_BATTERY_RECOVERED] = {"battery_recovered", "Batterie rechargée"},
    [VG_ALARM_STRAP_OPENED] = {"strap_opened", "Bracelet ouvert ou sectionné"},
    [VG_ALARM_STRAP_CLOSED] = {"strap_closed", "Bracelet refermé"},
    [VG_ALARM_SKIN_CONTACT_LOST] = {"skin_contact_lost", "Bracelet non porté"},
    [VG_ALARM_SKIN_CONTACT_RESTORED] = {"skin_contact_restored", "Bracelet porté de nouveau"},
    [VG_ALARM_BRACELET_SEPARATED] = {"bracelet_separated", "Bracelet éloigné du boîtier"},
    [VG_ALARM_BRACELET_RECONNECTED] = {"bracelet_reconnected", "Bracelet de nouveau à portée"},
    [VG_ALARM_UNIT_SWITCHED_OFF] = {"unit_switched_off", "Boîtier éteint"},
    [VG_ALARM_UNIT_SWITCHED_ON] = {"unit_switched_on", "Boîtier rallumé"},
    [VG_ALARM_SOS] = {"sos", "SOS de la personne protégée"},
    [VG_ALARM_CALLBACK_REQUEST] = {"callback_request", "Demande de rappel"},
    [VG_ALARM_BEACON_DETECTED] =
        {"beacon_detected", "Bracelet détecté à proximité par le boîtier de la personne protégée"},
    [VG_ALARM_BEACON_LOST] = {"beacon_lost", "Bracelet plus détecté à proximité"},
};

const char *vg_alarm_kind_name(unsigned kind)
{
    if (kind < VG_ALARM_KIND__COUNT && kinds[kind].name)
        return kinds[kind].name;
    return "unknown";
}

const char *vg_alarm_kind_label_fr(unsigned kind)
{
    if (kind < VG_ALARM_KIND__COUNT && kinds[kind].label_fr)
        return kinds[kind].label_fr;
    return "inconnu";
}

const char *vg_party_name(unsigned party)
{
    static const char *const names[] = {"none", "author", "protected", "both"};
    return party < 4 ? names[party] : "unknown";
}

const char *vg_unit_name(unsigned unit)
{
    static const char *const names[] = {"bracelet", "author_unit", "protected_unit"};
    return unit < VG_UNIT_COUNT ? names[unit] : "unknown";
}

const char *vg_level_name(unsigned level)
{
    static const char *const names[] = {"none", "prealert", "alert"};
    return level < 3 ? names[level] : "unknown";
}
