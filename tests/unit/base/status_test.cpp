// gmp::Status: the library's error result (gmp/status.hpp).
#include "gmp/status.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <type_traits>

#include "gmp/runtime.hpp"
#include "gmp/stw.hpp"

namespace {

TEST(Status, DefaultIsOkWithAnEmptyMessage) {
  gmp::Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.message(), "");
}

TEST(Status, AnErrorCarriesItsLine) {
  gmp::Status s = gmp::Status::error("procs 0 is out of range");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "procs 0 is out of range");
}

// A failure must never pass for success, whatever the caller built.
TEST(Status, AnEmptyErrorIsStillAnError) {
  gmp::Status s = gmp::Status::error("");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "unknown error");
}

TEST(Status, PrefixedAddsContextToFailuresOnly) {
  EXPECT_EQ(gmp::Status::error("gave up").prefixed("set_procs: ").message(), "set_procs: gave up");
  EXPECT_TRUE(gmp::Status().prefixed("set_procs: ").ok());
}

TEST(Status, PrintsOkOrTheMessage) {
  std::ostringstream a, b;
  a << gmp::Status();
  b << gmp::Status::error("bad key");
  EXPECT_EQ(a.str(), "ok");
  EXPECT_EQ(b.str(), "bad key");
  EXPECT_EQ(gmp::Status::error("x"), gmp::Status::error("x"));
  EXPECT_FALSE(gmp::Status::error("x") == gmp::Status());
}

// The public calls that can fail return it (a string would be silently
// droppable and reads "" for success).
static_assert(std::is_same_v<decltype(gmp::start()), gmp::Status>);
static_assert(std::is_same_v<decltype(gmp::validate(gmp::Config{})), gmp::Status>);
static_assert(std::is_same_v<decltype(gmp::set_procs(1)), gmp::Status>);
static_assert(std::is_same_v<decltype(gmp::stw::reload_config("")), gmp::Status>);

TEST(Status, ValidateSaysWhatIsWrongInTheLibrarysTerms) {
  gmp::Status s = gmp::validate({.procs = -1});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("procs -1 is out of range"), std::string::npos) << s;
  EXPECT_EQ(s.message().find("--"), std::string::npos) << "names a tool's flag: " << s;
}

}  // namespace
