// The system zlib (zlib1g-dev on Debian/Ubuntu; part of macOS), imported into Swift as the module CZlib.
#include <zlib.h>
