// gmp/gmp.hpp — the umbrella header.
#pragma once

#include "gmp/chan.hpp"
#include "gmp/go.hpp"
#include "gmp/io.hpp"
#include "gmp/net.hpp"
#include "gmp/pool.hpp"
#include "gmp/runtime.hpp"
#include "gmp/select.hpp"
#include "gmp/status.hpp"
#include "gmp/stw.hpp"
#include "gmp/sync.hpp"
#include "gmp/time.hpp"
