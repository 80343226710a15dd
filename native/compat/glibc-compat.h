// Force-included (-include) into every source of a portable prebuild on glibc
// (native/CMakeLists.txt, AUTOGRAD_PORTABLE): the functions whose default symbol version
// is newer than the architecture's first glibc are bound to that first version, so the
// prebuild made on this machine (glibc 2.36) loads on glibc 2.17 and later (RHEL/CentOS 7
// and 8, Debian 10-11, Ubuntu 18.04-20.04, Amazon Linux 2). glibc keeps every old version:
// exp/log/log2/pow@GLIBC_2.29 differ from the old ones only in how errors are reported
// (errno, _LIB_VERSION); both run the same implementation, so results agree bit for bit.
// dlopen & co. moved from libdl into libc in 2.34 and hypot got a new version in 2.35;
// their old versions are the same functions, as are pthread_create & co. (2.34). mallinfo2
// (2.33) has no old version: -Wl,--wrap=mallinfo2 sends it to glibc-compat.cc, which also
// pins the references of the static libstdc++. scripts/build-native.mjs checks the result
// (readelf) and refuses a prebuild that still needs a newer glibc.
#ifndef AUTOGRAD_GLIBC_COMPAT_H
#define AUTOGRAD_GLIBC_COMPAT_H
#ifdef __linux__
#include <features.h>  // defines __GLIBC__: nothing else is included yet
#endif
#if defined(__linux__) && defined(__GLIBC__)
#if defined(__x86_64__)
#define AG_GLIBC_BASE "GLIBC_2.2.5"
#elif defined(__aarch64__)
#define AG_GLIBC_BASE "GLIBC_2.17"
#endif
#ifdef AG_GLIBC_BASE
#define AG_PIN(name) __asm__(".symver " #name "," #name "@" AG_GLIBC_BASE);
AG_PIN(exp)
AG_PIN(log)
AG_PIN(log2)
AG_PIN(pow)
AG_PIN(hypot)
AG_PIN(expf)
AG_PIN(logf)
AG_PIN(log2f)
AG_PIN(powf)
AG_PIN(dlopen)
AG_PIN(dlsym)
AG_PIN(dlclose)
AG_PIN(dlerror)
AG_PIN(dladdr)
AG_PIN(pthread_create)
AG_PIN(pthread_join)
AG_PIN(pthread_detach)
AG_PIN(pthread_once)
AG_PIN(__pthread_key_create)
AG_PIN(pthread_key_create)
AG_PIN(pthread_getspecific)
AG_PIN(pthread_setspecific)
#undef AG_PIN
#endif
#endif
#endif
