// mem/object_link.hpp — the links a free object carries, and ASan poisoning.
//
// A free small object holds its list link(s) in its first bytes: one pointer
// on central lists, a TxnNode on txn lists (fast-tier magazines and transfer
// caches hold pointers and write nothing into objects). In the sanitizer build
// every free object is poisoned whole; the link accessors unpoison only for
// the instant they read or write, so any use-after-free by the program —
// including of the link words — is reported by ASan.
#pragma once

#include <cstddef>
#include <cstdint>

#if defined(__SANITIZE_ADDRESS__)
#define GMP_MEM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GMP_MEM_ASAN 1
#endif
#endif

#if defined(GMP_MEM_ASAN)
#include <sanitizer/asan_interface.h>
#define GMP_MEM_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define GMP_MEM_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define GMP_MEM_POISON(p, n) ((void)(p), (void)(n))
#define GMP_MEM_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace gmp::detail::mem {

inline void* link_get(void* obj) noexcept {
  GMP_MEM_UNPOISON(obj, sizeof(void*));
  void* n = *static_cast<void**>(obj);
  GMP_MEM_POISON(obj, sizeof(void*));
  return n;
}
inline void link_set(void* obj, void* next) noexcept {
  GMP_MEM_UNPOISON(obj, sizeof(void*));
  *static_cast<void**>(obj) = next;
  GMP_MEM_POISON(obj, sizeof(void*));
}

// A chain of free objects linked through link_set, with its length.
struct Chain {
  void* head = nullptr;
  void* tail = nullptr;
  std::uint32_t n = 0;
  void push(void* obj) noexcept {
    link_set(obj, head);
    head = obj;
    if (tail == nullptr) tail = obj;
    ++n;
  }
};

// Txn-tier list node, in the free object's first 24 bytes (txn classes are
// >= 32 bytes).
struct TxnNode {
  TxnNode* newer;  // toward the MRU end
  TxnNode* older;  // toward the LRU end
  std::int64_t stamp_ns;  // when it was freed (CLOCK_MONOTONIC_COARSE)
};

}  // namespace gmp::detail::mem
