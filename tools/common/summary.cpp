// common/summary.cpp — see summary.hpp.
#include "common/summary.hpp"

#include <cstdio>

namespace gmp::tools {

void Summary::set(std::string_view key, std::string_view value) {
  for (auto& [k, v] : kv_) {
    if (k == key) {
      v = value;
      return;
    }
  }
  kv_.emplace_back(std::string(key), std::string(value));
}

void Summary::set(std::string_view key, std::int64_t value) { set(key, std::to_string(value)); }
void Summary::set(std::string_view key, std::uint64_t value) { set(key, std::to_string(value)); }

void Summary::set(std::string_view key, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", value);
  // Trim trailing zeros ("812.400" -> "812.4", "3.000" -> "3").
  std::string s(buf);
  if (s.find('.') != std::string::npos) {
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
  }
  set(key, std::string_view(s));
}

const std::string* Summary::get(std::string_view key) const {
  for (auto& [k, v] : kv_) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::string Summary::line() const {
  std::string out = "summary";
  for (auto& [k, v] : kv_) {
    out += ' ';
    out += k;
    out += '=';
    bool quote = v.empty() || v.find_first_of(" \"=") != std::string::npos;
    if (!quote) {
      out += v;
      continue;
    }
    out += '"';
    for (char c : v) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out;
}

}  // namespace gmp::tools
