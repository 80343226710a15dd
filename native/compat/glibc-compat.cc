// Linked into a portable prebuild on Linux only (native/CMakeLists.txt, AUTOGRAD_PORTABLE),
// whose -Wl,--wrap=NAME options send the references to NAME of every object, the static
// libstdc++ included, to __wrap_NAME here; see glibc-compat.h. A reference bound to a
// version (the header's .symver) is not wrapped, so the calls below reach glibc.
#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>

#if defined(__GLIBC__)
extern "C" int __pthread_key_create(pthread_key_t* key, void (*destroy)(void*));

#define AG_HIDDEN extern "C" __attribute__((visibility("hidden")))
// pthread_create & co. at the version the header pins (libpthread's before glibc 2.34)
AG_HIDDEN int __wrap_pthread_create(pthread_t* t, const pthread_attr_t* a, void* (*f)(void*), void* arg) { return pthread_create(t, a, f, arg); }
AG_HIDDEN int __wrap_pthread_join(pthread_t t, void** result) { return pthread_join(t, result); }
AG_HIDDEN int __wrap_pthread_detach(pthread_t t) { return pthread_detach(t); }
AG_HIDDEN int __wrap_pthread_once(pthread_once_t* once, void (*f)()) { return pthread_once(once, f); }
AG_HIDDEN int __wrap___pthread_key_create(pthread_key_t* key, void (*destroy)(void*)) { return __pthread_key_create(key, destroy); }
// glibc 2.32 says through __libc_single_threaded that no second thread was ever made, and
// libstdc++ then counts references without atomic operations; never saying so is always safe
AG_HIDDEN char __wrap___libc_single_threaded;
char __wrap___libc_single_threaded = 0;

// AG_COMPAT_TEST (test/native/glibc-compat.test.ts only): =1 acts as on glibc 2.17, where
// __cxa_thread_atexit_impl and mallinfo2 are not found, =0 as here; both count the
// destructors the fallback below registered, so the test knows which path ran
#ifdef AG_COMPAT_TEST
AG_HIDDEN int ag_compat_fallback_registrations;
int ag_compat_fallback_registrations = 0;
#define AG_LOOKUP(name) (AG_COMPAT_TEST ? nullptr : dlsym(RTLD_DEFAULT, name))
#else
#define AG_LOOKUP(name) dlsym(RTLD_DEFAULT, name)
#endif

// __cxa_thread_atexit_impl (glibc 2.18) runs the destructors of thread_local objects at a
// thread's exit (libstdc++'s __cxa_thread_atexit calls it): glibc's own where it has one,
// looked up when first needed; on glibc 2.17 the same through a thread-specific key whose
// destructor runs the registered ones, last registered first, as glibc's does: the list
// stays in the key while they run, so an object a destructor constructs (registered then)
// is destroyed next, before the older ones. The thread that calls exit() runs its own from
// an atexit handler (glibc runs them in exit(); a key's destructor runs only when a thread
// ends), which runs before the handlers and static destructors registered before the first
// thread_local was (libstdc++'s fallback does the same). The `dso` argument is not needed:
// a Node addon is never unloaded.
namespace {
struct ThreadDtor {
  void (*f)(void*);
  void* obj;
  ThreadDtor* next;
};
pthread_key_t dtorKey;
pthread_once_t dtorOnce = PTHREAD_ONCE_INIT;
void runThreadDtors(void* list) {
  // glibc cleared the key before calling this: the list goes back into it
  pthread_setspecific(dtorKey, list);
  while (ThreadDtor* d = static_cast<ThreadDtor*>(pthread_getspecific(dtorKey))) {
    pthread_setspecific(dtorKey, d->next);
    d->f(d->obj);
    free(d);
  }
}
void runExitingThreadDtors() { runThreadDtors(pthread_getspecific(dtorKey)); }
void makeDtorKey() {
  __pthread_key_create(&dtorKey, runThreadDtors);
  atexit(runExitingThreadDtors);
}
}  // namespace

AG_HIDDEN int __wrap___cxa_thread_atexit_impl(void (*f)(void*), void* obj, void* dso) {
  using Fn = int (*)(void (*)(void*), void*, void*);
  static const Fn real = reinterpret_cast<Fn>(AG_LOOKUP("__cxa_thread_atexit_impl"));
  if (real) return real(f, obj, dso);
  pthread_once(&dtorOnce, makeDtorKey);
  ThreadDtor* d = static_cast<ThreadDtor*>(malloc(sizeof(ThreadDtor)));
  if (!d) return -1;
  *d = {f, obj, static_cast<ThreadDtor*>(pthread_getspecific(dtorKey))};
#ifdef AG_COMPAT_TEST
  __atomic_add_fetch(&ag_compat_fallback_registrations, 1, __ATOMIC_RELAXED);
#endif
  return pthread_setspecific(dtorKey, d);
}

#if __GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33)
// mallinfo2 (glibc 2.33) is looked up when first called; on an older glibc the counters
// come from mallinfo (the same numbers, in int fields that wrap past 2 GiB)
AG_HIDDEN struct mallinfo2 __wrap_mallinfo2(void) {
  using Fn = struct mallinfo2 (*)(void);
  static const Fn real = reinterpret_cast<Fn>(AG_LOOKUP("mallinfo2"));
  if (real) return real();
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  const struct mallinfo m = mallinfo();
#pragma GCC diagnostic pop
  struct mallinfo2 r {};
  r.arena = (unsigned)m.arena;
  r.ordblks = (unsigned)m.ordblks;
  r.smblks = (unsigned)m.smblks;
  r.hblks = (unsigned)m.hblks;
  r.hblkhd = (unsigned)m.hblkhd;
  r.usmblks = (unsigned)m.usmblks;
  r.fsmblks = (unsigned)m.fsmblks;
  r.uordblks = (unsigned)m.uordblks;
  r.fordblks = (unsigned)m.fordblks;
  r.keepcost = (unsigned)m.keepcost;
  return r;
}
#endif
#endif
