// echo: the Go 1.19 peer of `gmprun echo` (one goroutine per connection),
// and, with -client, the load generator for both: N connections each send a
// 512-byte message and wait for it back, for -d seconds; prints msgs/s.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

func serve(addr string) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}
	for {
		c, err := l.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go func(c net.Conn) {
			defer c.Close()
			buf := make([]byte, 16384)
			for {
				n, err := c.Read(buf)
				if err != nil {
					return
				}
				if _, err := c.Write(buf[:n]); err != nil {
					return
				}
			}
		}(c)
	}
}

func client(addr string, conns int, size int, d time.Duration) {
	var total int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				log.Fatal(err)
			}
			defer c.Close()
			msg := make([]byte, size)
			back := make([]byte, size)
			n := int64(0)
			for time.Now().Before(deadline) {
				if _, err := c.Write(msg); err != nil {
					break
				}
				if _, err := io.ReadFull(c, back); err != nil {
					break
				}
				n++
			}
			atomic.AddInt64(&total, n)
		}()
	}
	wg.Wait()
	fmt.Printf("msgs_per_s %.0f\n", float64(total)/d.Seconds())
}

func main() {
	addr := flag.String("addr", "127.0.0.1:7008", "address")
	isClient := flag.Bool("client", false, "run the load client")
	conns := flag.Int("c", 64, "client connections")
	size := flag.Int("size", 512, "message bytes")
	d := flag.Duration("d", 5*time.Second, "client duration")
	flag.Parse()
	if *isClient {
		client(*addr, *conns, *size, *d)
		return
	}
	serve(*addr)
}
