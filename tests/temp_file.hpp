// tests/temp_file.hpp — a file under /tmp with given contents, removed when
// the object goes out of scope (also when an assertion returns early).
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace gmp::testing {

class TempFile {
 public:
  // prefix: the file name's start, for whoever reads /tmp after a crash.
  explicit TempFile(const std::string& text, const std::string& prefix = "gmp_test") {
    std::string tmpl = "/tmp/" + prefix + "XXXXXX";
    int fd = mkstemp(tmpl.data());
    if (fd >= 0) close(fd);
    path_ = tmpl;
    write(text);
  }
  ~TempFile() { std::remove(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  // Replaces the contents.
  void write(const std::string& text) const { std::ofstream(path_, std::ios::trunc) << text; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace gmp::testing
