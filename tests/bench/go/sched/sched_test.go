// Package sched holds the Go 1.19 peers of tools/gmpbench/bench_sched.cpp,
// the same definitions (docs/BENCH-DEFINITIONS.md), for the side-by-side
// table printed by scripts/bench.sh. Standard library only.
//
//	BenchmarkYieldPair      B2: GOMAXPROCS=1, two goroutines each call
//	                        runtime.Gosched b.N/2 times; one op = one switch.
//	BenchmarkSpawnJoin      B4: wg.Add(1); go func(){ wg.Done() }(); wg.Wait()
//	                        b.N times, at GOMAXPROCS=2.
//	BenchmarkSkynet1M       B8 skynet, the canonical channel version (unbuffered
//	                        result channels); one op = one goroutine of the
//	                        1,111,111 in the tree; checked sum.
//	BenchmarkSkynet1MWaitGroup  the same tree written like ours (a WaitGroup
//	                        and a sums array per node), to separate channel
//	                        cost from scheduler cost.
//	BenchmarkWakeCrossP/spinning|parked  GOMAXPROCS=2: a busy waker (never
//	                        blocks) and a wakee blocked on a channel receive.
//	                        The waker sends after the wakee announced it is
//	                        about to block plus a delay: 5 µs (its M is then
//	                        still spinning or just parking: Go has no spin
//	                        setting and spins only a few µs) or 200 µs (its M
//	                        is asleep in futex). Reported: p50/p99 of
//	                        send → wakee running, ns.
//
// Run: go test -run '^$' -bench . -benchtime 1s -count 5
package sched

import (
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func BenchmarkYieldPair(b *testing.B) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var wg sync.WaitGroup
	wg.Add(2)
	b.ResetTimer()
	for g := 0; g < 2; g++ {
		go func() {
			for i := 0; i < b.N/2; i++ {
				runtime.Gosched()
			}
			wg.Done()
		}()
	}
	wg.Wait()
}

func BenchmarkSpawnJoin(b *testing.B) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	var wg sync.WaitGroup
	for i := 0; i < b.N; i++ {
		wg.Add(1)
		go func() { wg.Done() }()
		wg.Wait()
	}
}

const (
	skynetSize  = 1000000
	skynetDiv   = 10
	skynetNodes = 1111111
	skynetSum   = skynetSize * (skynetSize - 1) / 2
)

func skynet(c chan int, num, size, div int) {
	if size == 1 {
		c <- num
		return
	}
	rc := make(chan int)
	var sum int
	for i := 0; i < div; i++ {
		subNum := num + i*(size/div)
		go skynet(rc, subNum, size/div, div)
	}
	for i := 0; i < div; i++ {
		sum += <-rc
	}
	c <- sum
}

func skynetWG(out *int, parent *sync.WaitGroup, num, size int) {
	if size == 1 {
		*out = num
		parent.Done()
		return
	}
	var sums [skynetDiv]int
	var wg sync.WaitGroup
	wg.Add(skynetDiv)
	step := size / skynetDiv
	for i := 0; i < skynetDiv; i++ {
		go skynetWG(&sums[i], &wg, num+i*step, step)
	}
	wg.Wait()
	total := 0
	for _, s := range sums {
		total += s
	}
	*out = total
	parent.Done()
}

func reportPerGoroutine(b *testing.B, d time.Duration) {
	b.ReportMetric(float64(d.Nanoseconds())/float64(b.N)/skynetNodes, "ns/goroutine")
}

func BenchmarkSkynet1M(b *testing.B) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	start := time.Now()
	for i := 0; i < b.N; i++ {
		c := make(chan int)
		go skynet(c, 0, skynetSize, skynetDiv)
		if r := <-c; r != skynetSum {
			b.Fatalf("skynet: sum %d, expected %d", r, skynetSum)
		}
	}
	reportPerGoroutine(b, time.Since(start))
}

func BenchmarkSkynet1MWaitGroup(b *testing.B) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	start := time.Now()
	for i := 0; i < b.N; i++ {
		var wg sync.WaitGroup
		var r int
		wg.Add(1)
		go skynetWG(&r, &wg, 0, skynetSize)
		wg.Wait()
		if r != skynetSum {
			b.Fatalf("skynet: sum %d, expected %d", r, skynetSum)
		}
	}
	reportPerGoroutine(b, time.Since(start))
}

// monotonic ns since a fixed base (time.Since reads the monotonic clock).
var base = time.Now()

func nanotime() int64 { return int64(time.Since(base)) }

func wakeCrossP(b *testing.B, delay time.Duration) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	n := b.N
	ch := make(chan struct{}, 1)
	var armed int32  // 1: the wakee is about to block on ch
	var tWake int64  // written by the waker before the send
	lat := make([]int64, 0, n)
	var wg sync.WaitGroup
	wg.Add(2)
	b.ResetTimer()
	go func() { // wakee
		for i := 0; i < n; i++ {
			atomic.StoreInt32(&armed, 1)
			<-ch
			lat = append(lat, nanotime()-atomic.LoadInt64(&tWake))
		}
		wg.Done()
	}()
	go func() { // waker: busy, never blocks
		for i := 0; i < n; i++ {
			for atomic.LoadInt32(&armed) == 0 {
			}
			atomic.StoreInt32(&armed, 0)
			until := nanotime() + int64(delay)
			for nanotime() < until {
			}
			atomic.StoreInt64(&tWake, nanotime())
			ch <- struct{}{}
		}
		wg.Done()
	}()
	wg.Wait()
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[(len(lat)-1)/2]), "p50_ns")
	b.ReportMetric(float64(lat[(len(lat)-1)*99/100]), "p99_ns")
}

func BenchmarkWakeCrossP(b *testing.B) {
	b.Run("spinning", func(b *testing.B) { wakeCrossP(b, 5*time.Microsecond) })
	b.Run("parked", func(b *testing.B) { wakeCrossP(b, 200*time.Microsecond) })
}
