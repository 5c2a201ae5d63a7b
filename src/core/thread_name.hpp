// name_thread: the calling thread's name as `top -H`, `ps -L`, perf and gdb show it
// (docs/architecture.md, "Threads"). Linux keeps 15 bytes of it.
#pragma once

#include <pthread.h>

namespace coworker {

inline void name_thread(const char* name) { (void)pthread_setname_np(pthread_self(), name); }

}  // namespace coworker
