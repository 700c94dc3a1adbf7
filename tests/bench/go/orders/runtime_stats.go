package main

import "runtime"

type runtimeStats struct {
	gcCycles                 uint32
	pauseTotalNs, pauseMaxNs uint64
	procs                    int
}

// readRuntime: GC cycles and stop-the-world pauses (Go's counterpart of the
// STW pauses gmprun reports).
func readRuntime(s *runtimeStats) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	s.gcCycles = m.NumGC
	s.pauseTotalNs = m.PauseTotalNs
	n := int(m.NumGC)
	if n > len(m.PauseNs) {
		n = len(m.PauseNs)
	}
	for i := 0; i < n; i++ {
		if m.PauseNs[i] > s.pauseMaxNs {
			s.pauseMaxNs = m.PauseNs[i]
		}
	}
	s.procs = runtime.GOMAXPROCS(0)
}
