// etcd_load: the etcd side of bench/compare/etcd.sh. It drives one etcd server through the v3 client
// with the same workloads as `keel bench db` (point reads, 1-key writes) and prints one
// machine-readable RESULT line per run. It measures; it asserts nothing.
//
// It is built offline against Debian's packaged sources (golang-etcd-server-dev), in GOPATH mode:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o etcd_load ./bench/compare/etcd_load
//
// Modes:
//
//	ports   print N free TCP ports on 127.0.0.1, one a line (for starting etcd)
//	wait    retry a Get until the server answers (bounded by --timeout)
//	load    put keys 0..keys-1 with --value-size byte values, 100 puts per etcd transaction
//	read    --clients workers, each a loop of transactions of --reads-per-transaction linearizable
//	        Gets of uniformly random keys (1: a plain Get; more: one read-only Txn of that many Gets)
//	write   --clients workers, each a loop of single-key Puts of uniformly random keys
//
// Every loop is bounded by --duration and by --operations-max, and the process exits by itself
// (a watchdog ends it if the server stops answering).
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/clientv3"
)

type options struct {
	mode                string
	endpoint            string
	clients             int
	durationSeconds     float64
	operationsMax       int64
	keys                int
	valueBytes          int
	readsPerTransaction int
	keyFormat           string
	ports               int
	timeoutSeconds      float64
	requestTimeout      time.Duration
}

// The bounds below keep a mistaken invocation from running away; each has a clear error.
const (
	clientsMax             = 10000
	keysMax                = 100000000
	valueBytesMax          = 1 << 20
	readsPerTransactionMax = 128 // etcd's default --max-txn-ops
	loadBatchKeys          = 100
	loadWorkers            = 8
	portsMax               = 16
)

func parseOptions() options {
	var o options
	flag.StringVar(&o.mode, "mode", "", "ports | wait | load | read | write")
	flag.StringVar(&o.endpoint, "endpoint", "127.0.0.1:2379", "etcd client endpoint (host:port, loopback only)")
	flag.IntVar(&o.clients, "clients", 50, "concurrent workers (read, write)")
	flag.Float64Var(&o.durationSeconds, "duration", 10, "seconds of measurement (read, write)")
	flag.Int64Var(&o.operationsMax, "operations-max", 10000000, "transactions at most per run (read, write)")
	flag.IntVar(&o.keys, "keys", 100000, "keys loaded (load) and chosen from (read, write)")
	flag.IntVar(&o.valueBytes, "value-size", 100, "value bytes")
	flag.IntVar(&o.readsPerTransaction, "reads-per-transaction", 1, "Gets per read transaction")
	// The same keys as `keel bench db` (bench/db_bench.cpp: "bench/{:012d}").
	flag.StringVar(&o.keyFormat, "key-format", "bench/%012d", "printf format of key i")
	flag.IntVar(&o.ports, "count", 2, "ports to print (ports)")
	flag.Float64Var(&o.timeoutSeconds, "timeout", 30, "seconds to wait for the server (wait) or to load (load)")
	flag.Parse()
	o.requestTimeout = 10 * time.Second
	check := func(ok bool, message string) {
		if !ok {
			fail("%s", message)
		}
	}
	check(o.clients >= 1 && o.clients <= clientsMax, fmt.Sprintf("--clients must be in [1, %d]", clientsMax))
	check(o.keys >= 1 && o.keys <= keysMax, fmt.Sprintf("--keys must be in [1, %d]", keysMax))
	check(o.valueBytes >= 0 && o.valueBytes <= valueBytesMax, fmt.Sprintf("--value-size must be in [0, %d]", valueBytesMax))
	check(o.readsPerTransaction >= 1 && o.readsPerTransaction <= readsPerTransactionMax,
		fmt.Sprintf("--reads-per-transaction must be in [1, %d]", readsPerTransactionMax))
	check(o.durationSeconds > 0 && o.durationSeconds <= 3600, "--duration must be in (0, 3600]")
	check(o.operationsMax >= 1, "--operations-max must be at least 1")
	check(o.ports >= 1 && o.ports <= portsMax, fmt.Sprintf("--count must be in [1, %d]", portsMax))
	check(o.timeoutSeconds > 0 && o.timeoutSeconds <= 3600, "--timeout must be in (0, 3600]")
	check(isLoopback(o.endpoint), "--endpoint must be a loopback address (127.0.0.0/8 or [::1])")
	return o
}

func fail(format string, arguments ...interface{}) {
	fmt.Fprintf(os.Stderr, "etcd_load: "+format+"\n", arguments...)
	os.Exit(1)
}

func isLoopback(endpoint string) bool {
	host, _, err := net.SplitHostPort(endpoint)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Ports the kernel hands out for 127.0.0.1:0, released before printing; etcd binds them next.
func printFreePorts(count int) {
	listeners := make([]net.Listener, 0, count)
	for i := 0; i < count; i++ {
		listener, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fail("no free port on 127.0.0.1: %v", err)
		}
		listeners = append(listeners, listener)
	}
	for _, listener := range listeners {
		fmt.Println(listener.Addr().(*net.TCPAddr).Port)
		listener.Close()
	}
}

func connect(o options) *clientv3.Client {
	client, err := clientv3.New(clientv3.Config{
		Endpoints:   []string{"http://" + o.endpoint},
		DialTimeout: 5 * time.Second,
	})
	if err != nil {
		fail("cannot connect to etcd at %s: %v", o.endpoint, err)
	}
	return client
}

// Retries connecting and a Get until the server answers: etcd takes a moment to start.
func waitReady(o options) {
	deadline := time.Now().Add(time.Duration(o.timeoutSeconds * float64(time.Second)))
	var last error
	for attempt := 0; attempt < 10000 && time.Now().Before(deadline); attempt++ {
		client, err := clientv3.New(clientv3.Config{Endpoints: []string{"http://" + o.endpoint}, DialTimeout: time.Second})
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_, err = client.Get(ctx, "health-probe")
			cancel()
			client.Close()
			if err == nil {
				return
			}
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	fail("etcd at %s did not answer within %.0f s: %v", o.endpoint, o.timeoutSeconds, last)
}

func load(client *clientv3.Client, o options) {
	value := strings.Repeat("v", o.valueBytes)
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(o.timeoutSeconds*float64(time.Second)))
	defer cancel()
	batches := make(chan int, loadWorkers)
	var failed atomic.Value
	var workers sync.WaitGroup
	for w := 0; w < loadWorkers; w++ {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for first := range batches {
				ops := make([]clientv3.Op, 0, loadBatchKeys)
				for i := first; i < first+loadBatchKeys && i < o.keys; i++ {
					ops = append(ops, clientv3.OpPut(fmt.Sprintf(o.keyFormat, i), value))
				}
				if _, err := client.Txn(ctx).Then(ops...).Commit(); err != nil {
					failed.Store(err)
					return
				}
			}
		}()
	}
	for first := 0; first < o.keys && ctx.Err() == nil && failed.Load() == nil; first += loadBatchKeys {
		select {
		case batches <- first:
		case <-ctx.Done():
		}
	}
	close(batches)
	workers.Wait()
	if err := failed.Load(); err != nil {
		fail("loading %d keys failed: %v", o.keys, err)
	}
	if ctx.Err() != nil {
		fail("loading %d keys did not finish within %.0f s", o.keys, o.timeoutSeconds)
	}
	fmt.Printf("LOADED keys=%d value_bytes=%d\n", o.keys, o.valueBytes)
}

type samples struct {
	latencies  []time.Duration // one per transaction
	operations int64           // reads or writes
	errors     int64
	lastError  error
}

// One transaction of the workload; returns how many reads/writes it did.
func oneTransaction(client *clientv3.Client, o options, random *rand.Rand, value string) (int64, error) {
	key := func() string { return fmt.Sprintf(o.keyFormat, random.Intn(o.keys)) }
	ctx, cancel := context.WithTimeout(context.Background(), o.requestTimeout)
	defer cancel()
	switch {
	case o.mode == "write":
		_, err := client.Put(ctx, key(), value)
		return 1, err
	case o.readsPerTransaction == 1:
		_, err := client.Get(ctx, key())
		return 1, err
	default:
		ops := make([]clientv3.Op, o.readsPerTransaction)
		for i := range ops {
			ops[i] = clientv3.OpGet(key())
		}
		_, err := client.Txn(ctx).Then(ops...).Commit()
		return int64(o.readsPerTransaction), err
	}
}

func worker(client *clientv3.Client, o options, seed int64, end time.Time, started *int64, out *samples) {
	random := rand.New(rand.NewSource(seed))
	value := strings.Repeat("w", o.valueBytes)
	for time.Now().Before(end) && atomic.AddInt64(started, 1) <= o.operationsMax {
		start := time.Now()
		counted, err := oneTransaction(client, o, random, value)
		if err != nil {
			out.errors++
			out.lastError = err
			continue
		}
		out.operations += counted
		out.latencies = append(out.latencies, time.Since(start))
	}
}

func percentileMs(sorted []time.Duration, fraction float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	index := int(fraction * float64(len(sorted)))
	if index >= len(sorted) {
		index = len(sorted) - 1
	}
	return float64(sorted[index].Microseconds()) / 1e3
}

func measure(client *clientv3.Client, o options) {
	duration := time.Duration(o.durationSeconds * float64(time.Second))
	// The watchdog: requests time out after requestTimeout, so the run ends by then; if not, stop.
	go func() {
		time.Sleep(duration + 2*o.requestTimeout + 10*time.Second)
		fail("the %s run did not finish in time; is etcd still answering?", o.mode)
	}()
	perWorker := make([]samples, o.clients)
	var started int64
	var workers sync.WaitGroup
	start := time.Now()
	end := start.Add(duration)
	for i := 0; i < o.clients; i++ {
		workers.Add(1)
		go func(i int) {
			defer workers.Done()
			worker(client, o, int64(i)+1, end, &started, &perWorker[i])
		}(i)
	}
	workers.Wait()
	elapsed := time.Since(start).Seconds()
	var all []time.Duration
	var operations, errors int64
	var lastError error
	for i := range perWorker {
		all = append(all, perWorker[i].latencies...)
		operations += perWorker[i].operations
		errors += perWorker[i].errors
		if perWorker[i].lastError != nil {
			lastError = perWorker[i].lastError
		}
	}
	if lastError != nil {
		fmt.Fprintf(os.Stderr, "etcd_load: %d failed requests, the last: %v\n", errors, lastError)
	}
	sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
	workload := "point-write"
	if o.mode == "read" {
		workload = "point-read"
	}
	fmt.Printf("RESULT workload=%s clients=%d reads_per_transaction=%d transactions=%d operations=%d errors=%d "+
		"seconds=%.3f ops_per_s=%.0f txns_per_s=%.0f p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f\n",
		workload, o.clients, o.readsPerTransaction, len(all), operations, errors, elapsed,
		float64(operations)/elapsed, float64(len(all))/elapsed,
		percentileMs(all, 0.5), percentileMs(all, 0.99), percentileMs(all, 0.999))
}

func main() {
	o := parseOptions()
	if o.mode == "ports" {
		printFreePorts(o.ports)
		return
	}
	if o.mode != "wait" && o.mode != "load" && o.mode != "read" && o.mode != "write" {
		fail("--mode must be one of ports, wait, load, read, write (got %q)", o.mode)
	}
	if o.mode == "wait" {
		waitReady(o)
		return
	}
	client := connect(o)
	defer client.Close()
	switch o.mode {
	case "load":
		load(client, o)
	default:
		measure(client, o)
	}
}
