// gmp/gmp.hpp — the umbrella header.
#pragma once

#include "gmp/go.hpp"
#include "gmp/pool.hpp"
#include "gmp/runtime.hpp"
#include "gmp/sync.hpp"
