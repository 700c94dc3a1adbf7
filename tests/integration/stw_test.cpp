// gmprun stw end to end: the stw workload's summary, a goroutine dump on
// SIGQUIT, and a pool-config reload on SIGHUP (accepted and refused).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "../temp_file.hpp"
#include "run_gmprun.hpp"

namespace {

using gmp_it::Result;
using gmp_it::sh;

std::string gmprun() { return gmp_it::gmprun_path(); }

// Waits (up to 20 s) until $pid has blocked SIGHUP and SIGQUIT, the first
// thing gmprun's main does: a fixed sleep lost the race on a loaded machine
// (the signal's default action killed a process still starting).
const char* kWaitSignalsBlocked =
    "i=0; until b=$(grep ^SigBlk: /proc/$pid/status 2>/dev/null | cut -f2) && [ -n \"$b\" ] && "
    "[ $(( 0x$b & 5 )) -eq 5 ] || [ $i -gt 400 ]; do i=$((i+1)); sleep 0.05; done; ";

TEST(GmprunStw, WorkloadPrintsPausesPerReason) {
  Result r = sh(gmprun() + " --procs 2 --quiet stw --rate 100 --duration 1s --sweep-every 5");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("summary workload=stw ok=true"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("user_count="), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("user_stopping_p99_us="), std::string::npos) << r.out;
  // Pool sweeps are hand-offs to each P, not pauses (docs/STW.md, "The pool
  // sweep"): no pool_sweep stop line, the driver's wait instead.
  EXPECT_EQ(r.out.find("pool_sweep_total_max_us="), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("pool_sweeps=20 pool_sweep_pause_us=0 pool_sweep_handoff_p50_us="), std::string::npos) << r.out;
  // Slow stops, by cause (docs/STW.md, "Slow stops explained").
  EXPECT_NE(r.out.find("stw slow stops (>= 200 us): "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" slow_stops="), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" slow_m_preempted="), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" slow_held="), std::string::npos) << r.out;
}

TEST(GmprunStw, BadOptionIsOneLine) {
  Result r = sh(gmprun() + " stw --rate 0");
  EXPECT_EQ(r.status, 2) << r.out;
}

TEST(GmprunStw, SigquitDumpsGoroutinesAndRunGoesOn) {
  Result r = sh(gmprun() + " --procs 2 --quiet stw --rate 10 --duration 1500ms & pid=$!; " + kWaitSignalsBlocked +
                "sleep 0.2; kill -QUIT $pid; wait $pid");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("gmprun: SIGQUIT: goroutine dump"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("SCHED: procs=2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("status=stopped"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("goroutine 1 ["), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("summary workload=stw ok=true"), std::string::npos) << r.out;
}

TEST(GmprunStw, SighupReloadsPoolConfigAndRefusesABadOne) {
  gmp::testing::TempFile config("[txn]\nttl_ms = 50\n", "gmp_stw_hup");
  const std::string& p = config.path();
  Result r = sh(gmprun() + " --procs 2 --quiet --pool-config " + p +
                " stw --rate 10 --duration 2s & pid=$!; " + kWaitSignalsBlocked + "sleep 0.2; printf \"[txn]\\nttl_ms = 40\\n\" > " + p +
                "; kill -HUP $pid; sleep 0.4; printf \"[txn]\\nttl_ms = 400\\n\" > " + p +
                "; kill -HUP $pid; wait $pid");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("gmprun: SIGHUP: reloaded " + p), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("gmprun: SIGHUP: kept the old config: " + p), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("txn.ttl_ms"), std::string::npos) << r.out;
}

}  // namespace
