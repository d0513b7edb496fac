/* vigie incident, vigie floor: the operators' incidents and the floor view
 * through vigied's API, as the user logged in with vigie login. */
#ifndef VG_TOOLS_VIGIE_INCIDENT_H
#define VG_TOOLS_VIGIE_INCIDENT_H

int vigie_incident_main(int argc, char **argv);
int vigie_floor_main(int argc, char **argv);

#endif
