// Go 1.19 peers of tools/gmpbench/bench_chan.cpp (same definitions).
// Run: go test -run '^$' -bench . (scripts/bench-chan.sh does).
package chanbench

import (
	"runtime"
	"sort"
	"sync"
	"testing"
	"time"
)

func pingPong(b *testing.B, procs int) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v
		}
	}()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ping <- 1
		<-pong
	}
	b.StopTimer()
	close(ping)
}

func BenchmarkChanPingPong1P(b *testing.B) { pingPong(b, 1) }
func BenchmarkChanPingPong2P(b *testing.B) { pingPong(b, 2) }

// Go's runtime BenchmarkChanProdCons shape: procs pairs on one channel.
func prodCons(b *testing.B, capacity int) {
	ch := make(chan int, capacity)
	pairs := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	wg.Add(2 * pairs)
	b.ResetTimer()
	for p := 0; p < pairs; p++ {
		go func() {
			for i := 0; i < b.N/pairs; i++ {
				ch <- 1
			}
			ch <- 0
			wg.Done()
		}()
		go func() {
			for <-ch != 0 {
			}
			wg.Done()
		}()
	}
	wg.Wait()
}

func BenchmarkChanProdCons0(b *testing.B)   { prodCons(b, 0) }
func BenchmarkChanProdCons10(b *testing.B)  { prodCons(b, 10) }
func BenchmarkChanProdCons100(b *testing.B) { prodCons(b, 100) }

func BenchmarkSelect2(b *testing.B) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	c := []chan int{make(chan int), make(chan int)}
	go func() {
		for i := 0; i < b.N; i++ {
			c[i%2] <- 1
		}
	}()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		select {
		case <-c[0]:
		case <-c[1]:
		}
	}
}

func BenchmarkSelect4(b *testing.B) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	c := []chan int{make(chan int), make(chan int), make(chan int), make(chan int)}
	go func() {
		for i := 0; i < b.N; i++ {
			c[i%4] <- 1
		}
	}()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		select {
		case <-c[0]:
		case <-c[1]:
		case <-c[2]:
		case <-c[3]:
		}
	}
}

func BenchmarkMutexContended(b *testing.B) {
	var mu sync.Mutex
	counter := 0
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mu.Lock()
			counter++
			mu.Unlock()
		}
	})
}

func BenchmarkSleep1ms(b *testing.B) {
	over := make([]int64, 0, b.N)
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		time.Sleep(time.Millisecond)
		over = append(over, int64(time.Since(t0)-time.Millisecond))
	}
	sort.Slice(over, func(i, j int) bool { return over[i] < over[j] })
	b.ReportMetric(float64(over[len(over)/2]), "p50_overshoot_ns")
	b.ReportMetric(float64(over[len(over)*99/100]), "p99_overshoot_ns")
}
