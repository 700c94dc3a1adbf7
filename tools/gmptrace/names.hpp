// gmptrace/names.hpp — names of the values the probes carry (gmp/probes_abi.h).
#pragma once

#include <string>

namespace gmp::trace {

std::string stw_reason_name(long v);
std::string slow_cause_name(long v);
std::string tier_name(long v);
std::string fallback_name(long v);
std::string io_op_name(long v);
std::string syscall_name(long nr);

}  // namespace gmp::trace
