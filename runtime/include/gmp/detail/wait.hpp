// gmp/detail/wait.hpp — the one parking primitive every blocking API is
// built on (Go's gopark/goready). Internal: the public headers' templates use
// it; user code should use Chan, Mutex, WaitGroup… instead.
#pragma once

#include <atomic>
#include <cstdint>

namespace gmp::detail {

struct G;

// Why a goroutine is parked: shown in goroutine dumps and in the g_park probe.
// Reasons are unique and never reused for another meaning: add new ones at the
// end (the numeric values are part of the probe ABI, docs/PROBES.md).
enum class WaitReason : std::uint8_t {
  kNone = 0,
  kJoin,            // JoinHandle::join
  kWaitGroup,       // WaitGroup::wait
  kChanSend,        // Chan::send on a full or unbuffered channel
  kChanRecv,        // Chan::recv on an empty channel
  kSelect,          // select with no ready case
  kSelectNoCases,   // select with no cases (blocks forever)
  kMutex,           // Mutex::lock
  kRWMutexRead,     // RWMutex::lock_shared
  kRWMutexWrite,    // RWMutex::lock
  kCond,            // CondVar::wait
  kOnce,            // Once::call while another goroutine runs it
  kSemaphore,       // Semaphore::acquire
  kSleep,           // sleep_for / sleep_until
  kTimer,           // waiting on a Timer or Ticker channel
  kIo,              // an io_uring operation
  kSyscall,         // gmp::blocking (the M is in a blocking call)
  kStopTheWorld,    // parked by stop-the-world
  kPreempted,       // waiting to resume after preemption
  kUser,            // a user-defined wait built on detail::wait
  kCount
};

// Static names, indexed by WaitReason ("chan receive", "sleep", …).
const char* wait_reason_name(WaitReason r) noexcept;

// One waiter. Lives on the waiting goroutine's (or thread's) stack for the
// duration of wait().
struct Waiter {
  G* g = nullptr;                     // the parked G; null for a plain thread
  std::atomic<std::uint32_t> woken{0};  // futex word for a plain thread
  Waiter* next = nullptr;             // free for the owner's wait queue
  Waiter* prev = nullptr;
  void* data = nullptr;               // free for the owner (e.g. a select case)
  std::uintptr_t token = 0;           // free for the owner
};

// Blocks the caller until wake(w). `commit(arg)` is called exactly once,
// after the caller can safely be woken (its context is saved): it publishes
// `w` where a waker will find it — typically it releases the lock under
// which w was enqueued. If commit returns false the caller does not block.
// Works on goroutines (parks the G, never the M) and on plain threads
// (futex wait).
void wait(Waiter& w, WaitReason reason, bool (*commit)(void*), void* arg) noexcept;

// Wakes the waiter. Must be called exactly once per wait() whose commit
// returned true. A woken goroutine goes to the waker's P (runnext slot), or to
// its own P if that P is looking for work.
void wake(Waiter& w) noexcept;

}  // namespace gmp::detail
