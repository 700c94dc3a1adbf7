// stw/reasons.hpp — names of the stop-the-world reasons (gmp::stw::Reason).
//
// The table is checked for completeness at compile time: a reason added to
// the enum without a name does not build. Names appear in dumps, hog reports,
// gmprun summaries and docs/STW.md; values in the USDT probes.
#pragma once

#include <iterator>

#include "gmp/stw.hpp"

namespace gmp::detail::stw {

inline constexpr int kNumReasons = static_cast<int>(gmp::stw::Reason::kCount);

inline constexpr const char* kReasonNames[] = {
    "user",            // kUser
    "procresize",      // kProcResize
    "pool sweep",      // kPoolSweep
    "config reload",   // kConfigReload
    "goroutine dump",  // kGoroutineDump
};
static_assert(std::size(kReasonNames) == kNumReasons, "stw: every Reason needs a name in kReasonNames");

}  // namespace gmp::detail::stw
