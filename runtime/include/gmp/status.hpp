// gmp/status.hpp — the result of a library call that can fail for a reason a
// person should read: success, or one line saying what was wrong and what
// would be right.
//
//   if (gmp::Status st = gmp::start(cfg); !st.ok()) {
//     std::fprintf(stderr, "myserver: cannot start the runtime: %s\n", st.message().c_str());
//     return 2;
//   }
//
// The message names the library's own terms (a Config field, a config file's
// key, a function), never a tool's flag: a tool that maps its flags onto the
// call adds its own context in front. [[nodiscard]]: a dropped Status is a
// dropped error; write `(void)` where ignoring it is meant.
//
// Calls whose failures are an errno (files, sockets) return io::Result
// instead (gmp/io.hpp): callers branch on the code there, not on the text.
#pragma once

#include <ostream>
#include <string>
#include <utility>

namespace gmp {

class [[nodiscard]] Status {
 public:
  // Success.
  Status() noexcept = default;
  // A failure. REQUIRES: message is not empty (an empty one reads "unknown
  // error", so a failure never passes for success).
  static Status error(std::string message) {
    Status s;
    s.msg_ = message.empty() ? std::string("unknown error") : std::move(message);
    return s;
  }

  bool ok() const noexcept { return msg_.empty(); }
  // The reason; empty when ok().
  const std::string& message() const noexcept { return msg_; }

  // The same failure with `context` in front ("set_procs: " + message); ok
  // stays ok.
  Status prefixed(const std::string& context) const { return ok() ? Status() : error(context + msg_); }

  friend bool operator==(const Status& a, const Status& b) noexcept { return a.msg_ == b.msg_; }
  // "ok", or the message (test failures print it).
  friend std::ostream& operator<<(std::ostream& os, const Status& s) { return os << (s.ok() ? "ok" : s.msg_); }

 private:
  std::string msg_;
};

}  // namespace gmp
