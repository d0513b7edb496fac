/* vigie person: persons' files through vigied's API (administrator token). */
#ifndef VG_TOOLS_VIGIE_PERSON_H
#define VG_TOOLS_VIGIE_PERSON_H

int vigie_person_main(int argc, char **argv);

#endif
