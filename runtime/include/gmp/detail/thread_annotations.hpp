// gmp/detail/thread_annotations.hpp — Clang's thread-safety annotations as
// GMP_ macros, and the annotated lock types they need.
//
// A field marked GMP_GUARDED_BY(mu) may be read or written only with mu held;
// a function marked GMP_REQUIRES(mu) only called with it held. Clang checks
// both at compile time (-Wthread-safety; CI builds the runtime with clang and
// -Werror=thread-safety). Under other compilers the macros are empty.
//
// The analysis follows locks a function takes and releases itself, through
// the annotated types below (std::mutex and std::lock_guard carry no
// annotations in libstdc++). It cannot follow a lock handed from one function
// to another (taken before a park, released by the waker's commit), a field
// owned by "the M that holds this P", or a lock found through a runtime
// index: such fields say so in words where they are declared, and the few
// functions that implement such a protocol are GMP_NO_THREAD_SAFETY_ANALYSIS
// with the reason beside them.
#pragma once

#include <mutex>

#if defined(__clang__)
#define GMP_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define GMP_THREAD_ANNOTATION(x)
#endif

#define GMP_CAPABILITY(name) GMP_THREAD_ANNOTATION(capability(name))
#define GMP_SCOPED_CAPABILITY GMP_THREAD_ANNOTATION(scoped_lockable)
#define GMP_GUARDED_BY(mu) GMP_THREAD_ANNOTATION(guarded_by(mu))
#define GMP_PT_GUARDED_BY(mu) GMP_THREAD_ANNOTATION(pt_guarded_by(mu))
#define GMP_REQUIRES(...) GMP_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define GMP_ACQUIRE(...) GMP_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define GMP_RELEASE(...) GMP_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define GMP_TRY_ACQUIRE(...) GMP_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
#define GMP_EXCLUDES(...) GMP_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define GMP_RETURN_CAPABILITY(mu) GMP_THREAD_ANNOTATION(lock_returned(mu))
#define GMP_NO_THREAD_SAFETY_ANALYSIS GMP_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace gmp::detail {

// std::mutex with annotations: a lock that blocks the OS thread (gmp::Mutex
// parks the goroutine).
class GMP_CAPABILITY("mutex") ThreadMutex {
 public:
  // The lock types' own bodies are not analysed (they implement the
  // capability the analysis checks elsewhere).
  void lock() noexcept GMP_ACQUIRE() GMP_NO_THREAD_SAFETY_ANALYSIS { mu_.lock(); }
  void unlock() noexcept GMP_RELEASE() GMP_NO_THREAD_SAFETY_ANALYSIS { mu_.unlock(); }
  bool try_lock() noexcept GMP_TRY_ACQUIRE(true) GMP_NO_THREAD_SAFETY_ANALYSIS { return mu_.try_lock(); }
  // For reading glibc's owner tid (stw/stop.cpp's SchedLock), nothing else.
  std::mutex::native_handle_type native_handle() noexcept { return mu_.native_handle(); }

 private:
  std::mutex mu_;
};

// std::lock_guard for any annotated lock type.
template <class Lock>
class GMP_SCOPED_CAPABILITY LockGuard {
 public:
  explicit LockGuard(Lock& l) noexcept GMP_ACQUIRE(l) GMP_NO_THREAD_SAFETY_ANALYSIS : l_(l) { l_.lock(); }
  ~LockGuard() GMP_RELEASE() GMP_NO_THREAD_SAFETY_ANALYSIS { l_.unlock(); }
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;

 private:
  Lock& l_;
};

// std::unique_lock's subset the runtime uses: held from construction, may be
// released early and taken again.
template <class Lock>
class GMP_SCOPED_CAPABILITY UniqueLock {
 public:
  explicit UniqueLock(Lock& l) noexcept GMP_ACQUIRE(l) GMP_NO_THREAD_SAFETY_ANALYSIS : l_(l) { l_.lock(); }
  ~UniqueLock() GMP_RELEASE() GMP_NO_THREAD_SAFETY_ANALYSIS {
    if (held_) l_.unlock();
  }
  void lock() noexcept GMP_ACQUIRE() GMP_NO_THREAD_SAFETY_ANALYSIS {
    l_.lock();
    held_ = true;
  }
  void unlock() noexcept GMP_RELEASE() GMP_NO_THREAD_SAFETY_ANALYSIS {
    held_ = false;
    l_.unlock();
  }
  UniqueLock(const UniqueLock&) = delete;
  UniqueLock& operator=(const UniqueLock&) = delete;

 private:
  Lock& l_;
  bool held_ = true;
};

}  // namespace gmp::detail
