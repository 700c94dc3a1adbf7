// park: the Go 1.19 peer of gmprun's `park` built-in
// (tools/gmprun/workloads/park.cpp), measured the same way: N goroutines
// each block on one channel receive (-on chan) or a WaitGroup wait (-on wg);
// spawn+park is the time from the first spawn until all have reached the
// blocking call, wake+finish the time from the close (or the last Done)
// until all have returned. RSS per goroutine is the resident-set growth with
// all N parked, over N. One logfmt line, with the built-in's field names:
//
//	summary workload=park runtime=go procs=P parked=N park_ms=… wake_ms=… park_ns_per_g=… wake_ns_per_g=… rss_bytes_per_g=…
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		fmt.Fprintf(os.Stderr, "park: %v\n", err)
		os.Exit(1)
	}
	var size, resident int64
	fmt.Sscan(string(b), &size, &resident)
	return resident * int64(os.Getpagesize())
}

type round struct {
	park, wake time.Duration
	rss        int64
	finished   int64
}

func run(n int, onChan bool) round {
	gate := make(chan struct{})
	var release sync.WaitGroup
	release.Add(1)
	var parked, finished sync.WaitGroup
	parked.Add(n)
	finished.Add(n)
	var ran int64
	rss0 := rssBytes()
	t0 := time.Now()
	for i := 0; i < n; i++ {
		if onChan {
			go func() {
				parked.Done()
				<-gate
				atomic.AddInt64(&ran, 1)
				finished.Done()
			}()
		} else {
			go func() {
				parked.Done()
				release.Wait()
				atomic.AddInt64(&ran, 1)
				finished.Done()
			}()
		}
	}
	parked.Wait()
	for i := 0; i < 4; i++ {
		runtime.Gosched()
	}
	t1 := time.Now()
	r := round{rss: rssBytes() - rss0}
	if onChan {
		close(gate)
	} else {
		release.Done()
	}
	finished.Wait()
	r.park = t1.Sub(t0)
	r.wake = time.Since(t1)
	r.finished = atomic.LoadInt64(&ran)
	return r
}

func main() {
	n := flag.Int("count", 1000000, "goroutines to park")
	on := flag.String("on", "chan", "what they block on: chan or wg")
	procs := flag.Int("procs", 1, "GOMAXPROCS")
	repeat := flag.Int("repeat", 1, "rounds (figures are from the fastest; RSS from the first)")
	flag.Parse()
	if *on != "chan" && *on != "wg" {
		fmt.Fprintf(os.Stderr, "park: -on %q is not a blocking kind; use chan or wg\n", *on)
		os.Exit(2)
	}
	if *n < 1 || *repeat < 1 || *procs < 1 {
		fmt.Fprintln(os.Stderr, "park: -count, -repeat and -procs must be at least 1")
		os.Exit(2)
	}
	runtime.GOMAXPROCS(*procs)
	var best round
	var rssFirst int64
	for i := 0; i < *repeat; i++ {
		r := run(*n, *on == "chan")
		if r.finished != int64(*n) {
			fmt.Fprintf(os.Stderr, "park: %d of %d goroutines finished\n", r.finished, *n)
			os.Exit(1)
		}
		if i == 0 {
			best, rssFirst = r, r.rss
		}
		if r.park < best.park {
			best.park = r.park
		}
		if r.wake < best.wake {
			best.wake = r.wake
		}
	}
	ms := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }
	fn := float64(*n)
	fmt.Printf("summary workload=park runtime=go procs=%d parked=%d park_ms=%.3f wake_ms=%.3f park_ns_per_g=%.1f wake_ns_per_g=%.1f rss_bytes_per_g=%.1f\n",
		*procs, *n, ms(best.park), ms(best.wake), float64(best.park.Nanoseconds())/fn,
		float64(best.wake.Nanoseconds())/fn, float64(rssFirst)/fn)
}
