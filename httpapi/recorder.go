package httpapi

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/obank/obank/ob"
)

// recorder hands API calls to the store in batches, off the request path:
// Record never blocks and never touches the database. Calls wait in a
// bounded channel; when it is full they are dropped and counted, because
// losing an analytics row is better than slowing or failing a TPP's read.
type recorder struct {
	store    ob.CallRecorder
	log      *slog.Logger
	batch    int
	interval time.Duration

	mu      sync.RWMutex // guards closed against concurrent Record
	closed  bool
	calls   chan ob.APICall
	done    chan struct{}
	dropped atomic.Int64
}

func newRecorder(store ob.CallRecorder, log *slog.Logger, buffer, batch int, interval time.Duration) *recorder {
	if buffer <= 0 {
		buffer = 8192
	}
	if batch <= 0 {
		batch = 256
	}
	if interval <= 0 {
		interval = time.Second
	}
	r := &recorder{
		store:    store,
		log:      log,
		batch:    batch,
		interval: interval,
		calls:    make(chan ob.APICall, buffer),
		done:     make(chan struct{}),
	}
	go r.run()
	return r
}

// Record queues a call, or drops it when the buffer is full or the
// recorder is closed.
func (r *recorder) Record(c ob.APICall) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		r.dropped.Add(1)
		return
	}
	select {
	case r.calls <- c:
	default:
		r.dropped.Add(1)
	}
}

// Dropped reports how many calls were dropped.
func (r *recorder) Dropped() int64 { return r.dropped.Load() }

// Close stops accepting calls, flushes the buffered ones and waits for the
// last write. It is safe to call more than once.
func (r *recorder) Close() error {
	r.mu.Lock()
	if !r.closed {
		r.closed = true
		close(r.calls)
	}
	r.mu.Unlock()
	<-r.done
	return nil
}

func (r *recorder) run() {
	defer close(r.done)
	tick := time.NewTicker(r.interval)
	defer tick.Stop()
	buf := make([]ob.APICall, 0, r.batch)
	for {
		select {
		case c, ok := <-r.calls:
			if !ok {
				r.flush(buf)
				return
			}
			buf = append(buf, c)
			if len(buf) >= r.batch {
				buf = r.flush(buf)
			}
		case <-tick.C:
			buf = r.flush(buf)
		}
	}
}

// flush writes buf and returns it emptied. A failed write is logged and the
// batch discarded: retrying would let a sick database grow memory without
// bound.
func (r *recorder) flush(buf []ob.APICall) []ob.APICall {
	if len(buf) == 0 {
		return buf
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.store.RecordAPICalls(ctx, buf); err != nil {
		r.log.Error("recording API calls", "calls", len(buf), "err", err)
		r.dropped.Add(int64(len(buf)))
	}
	clear(buf) // drop references before reuse
	return buf[:0]
}
