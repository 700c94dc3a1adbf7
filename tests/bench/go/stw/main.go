// stw: the Go peer of `gmprun stw`. Same load shape: busy goroutines
// allocating in a compute loop, a goroutine pair ping-ponging a byte over a
// pipe, a goroutine looping on a 200 µs blocking sleep, while a driver stops
// the world -rate times a second for -duration (runtime.GC(): its two STW
// phases, sweep termination and mark termination). Pauses are read from
// runtime/metrics "/gc/pauses:seconds" (every STW pause of the GC) and from
// debug.ReadGCStats (one total per GC); one summary line at the end.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

var sink [64][]byte

func busy(quit *int32, wg *sync.WaitGroup, work *uint64) {
	defer wg.Done()
	x := uint64(0x9E3779B97F4A7C15)
	n := uint64(0)
	for atomic.LoadInt32(quit) == 0 {
		for i := 0; i < 400; i++ {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
		}
		b := make([]byte, 64+int(x&255))
		c := make([]byte, 512)
		b[0] = byte(x)
		sink[x&63] = b
		_ = c
		n++
	}
	atomic.AddUint64(work, n)
}

func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.999999) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return sorted[i]
}

func main() {
	rate := flag.Int("rate", 100, "stops (runtime.GC calls) per second")
	dur := flag.Duration("duration", 5*time.Second, "how long to run")
	nbusy := flag.Int("busy", runtime.GOMAXPROCS(0), "busy goroutines")
	flag.Parse()

	var quit int32
	var work, rtt, blocking uint64
	var wg sync.WaitGroup
	for i := 0; i < *nbusy; i++ {
		wg.Add(1)
		go busy(&quit, &wg, &work)
	}
	r1, w1, _ := os.Pipe()
	r2, w2, _ := os.Pipe()
	wg.Add(3)
	go func() { // pinger
		defer wg.Done()
		b := []byte{'p'}
		for atomic.LoadInt32(&quit) == 0 {
			if _, err := w1.Write(b); err != nil {
				break
			}
			if _, err := r2.Read(b); err != nil {
				break
			}
			atomic.AddUint64(&rtt, 1)
			time.Sleep(100 * time.Microsecond)
		}
		w1.Write([]byte{'q'})
	}()
	go func() { // ponger
		defer wg.Done()
		b := []byte{0}
		for {
			if _, err := r1.Read(b); err != nil || b[0] == 'q' {
				return
			}
			w2.Write(b)
		}
	}()
	go func() { // blocking sleeper
		defer wg.Done()
		ts := syscall.NsecToTimespec(200_000)
		for atomic.LoadInt32(&quit) == 0 {
			syscall.Nanosleep(&ts, nil)
			atomic.AddUint64(&blocking, 1)
		}
	}()

	var before debug.GCStats
	debug.ReadGCStats(&before)
	period := time.Second / time.Duration(*rate)
	start := time.Now()
	calls := 0
	for k := 1; ; k++ {
		t := start.Add(time.Duration(k) * period)
		if t.Sub(start) > *dur {
			break
		}
		time.Sleep(time.Until(t))
		runtime.GC()
		calls++
	}
	atomic.StoreInt32(&quit, 1)
	wg.Wait()

	// Every STW pause since start (runtime/metrics histogram).
	s := []metrics.Sample{{Name: "/gc/pauses:seconds"}}
	metrics.Read(s)
	h := s[0].Value.Float64Histogram()
	var pauses []float64
	for i, c := range h.Counts {
		for j := uint64(0); j < c; j++ {
			pauses = append(pauses, h.Buckets[i+1]) // upper bound, like ours
		}
	}
	sort.Float64s(pauses)
	// Per-GC totals (both phases) from ReadGCStats.
	var st debug.GCStats
	st.PauseQuantiles = make([]time.Duration, 101)
	debug.ReadGCStats(&st)
	var per []float64
	for _, p := range st.Pause[:min(len(st.Pause), int(st.NumGC-before.NumGC))] {
		per = append(per, float64(p)/1e3)
	}
	sort.Float64s(per)
	us := func(sec float64) float64 { return sec * 1e6 }
	fmt.Printf("summary workload=go-stw rate=%d duration_s=%.0f busy=%d gc_calls=%d busy_iterations=%d io_roundtrips=%d blocking_calls=%d "+
		"pauses=%d pause_p50_us=%.1f pause_p99_us=%.1f pause_max_us=%.1f gc_total_p50_us=%.1f gc_total_p99_us=%.1f gc_total_max_us=%.1f\n",
		*rate, dur.Seconds(), *nbusy, calls, work, rtt, blocking,
		len(pauses), us(quantile(pauses, 0.5)), us(quantile(pauses, 0.99)), us(quantile(pauses, 1)),
		quantile(per, 0.5), quantile(per, 0.99), quantile(per, 1))
}

func min(a, b int) int {
	if a < b {
		return a
	}
	return b
}
