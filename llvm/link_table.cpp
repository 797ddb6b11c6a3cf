// The linker front end's half of the plugin table (see plugin_internal.h).
#include "plugin_internal.h"

void jm_llvm_fill_linker(jm_llvm_plugin &table)
{
	(void)table; // the front end is not built in yet
}
