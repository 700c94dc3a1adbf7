// parked_rss: the Go 1.19 peer of tests/bench/parked_rss.cpp. Starts N
// goroutines (default 1M) that each block on a channel receive, waits until
// all of them are parked, and prints the growth of the process's resident
// set (/proc/self/statm) per goroutine, in one logfmt line:
//
//	parked_rss runtime=go goroutines=N rss_before_kib=… rss_parked_kib=… bytes_per_goroutine=…
//
// A parked goroutine costs its stack (2 KiB minimum in Go 1.19), its g
// descriptor and the sudog of the blocked receive.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

func rssKiB() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		fmt.Fprintf(os.Stderr, "parked_rss: %v\n", err)
		os.Exit(1)
	}
	var size, resident int64
	fmt.Sscan(string(b), &size, &resident)
	return resident * int64(os.Getpagesize()) / 1024
}

func main() {
	n := flag.Int("n", 1000000, "goroutines to park")
	flag.Parse()
	runtime.GOMAXPROCS(2)
	runtime.GC()
	debug.FreeOSMemory()
	before := rssKiB()

	block := make(chan struct{})
	var parked int64
	var done sync.WaitGroup
	done.Add(*n)
	for i := 0; i < *n; i++ {
		go func() {
			atomic.AddInt64(&parked, 1)
			<-block
			done.Done()
		}()
	}
	for atomic.LoadInt64(&parked) < int64(*n) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // the last ones reach the receive
	runtime.GC()
	after := rssKiB()
	fmt.Printf("parked_rss runtime=go goroutines=%d rss_before_kib=%d rss_parked_kib=%d bytes_per_goroutine=%.0f\n",
		*n, before, after, float64(after-before)*1024/float64(*n))
	close(block)
	done.Wait()
}
