"""Scenario 3, Python 3.11 side: the cost of one asyncore pass with N idle
channels and one active pair.

    python3 -W ignore fd_scaling.py --backend select|poll --n N --seconds S

The idle channels are both ends of N/2 socketpairs; the active pair is made
last (highest fd).  The active channel's handle_read takes its byte and the
partner writes one back, so every pass finds one ready channel and never
sleeps.  "call" times asyncore.loop(count=1) call by call (median); "in_loop"
is one asyncore.loop(count=K) divided by K.  Prints one JSON line.
"""
import asyncore
import json
import socket
import sys
import time


class Idle(asyncore.dispatcher):
    def readable(self):
        return True

    def writable(self):
        return False

    def handle_read(self):
        pass


class Active(asyncore.dispatcher):
    partner = None

    def writable(self):
        return False

    def handle_read(self):
        self.recv(1)
        self.partner.send(b'x')


def main(argv):
    backend = argv[argv.index('--backend') + 1]
    n = int(argv[argv.index('--n') + 1])
    seconds = float(argv[argv.index('--seconds') + 1])
    use_poll = backend == 'poll'
    keep = []
    chan_map = {}
    for i in range(0, n, 2):
        a, b = socket.socketpair()
        keep += [a, b]
        Idle(a, chan_map)
        if i + 1 < n:
            Idle(b, chan_map)
    x, y = socket.socketpair()
    keep += [x, y]
    active = Active(x, chan_map)
    active.partner = y
    y.send(b'x')
    try:
        # warm-up, and the check that select() can hold every fd
        end = time.perf_counter() + seconds * 0.1
        while time.perf_counter() < end:
            asyncore.loop(timeout=1, use_poll=use_poll, map=chan_map, count=1)
        samples = []
        end = time.perf_counter() + seconds / 2
        while time.perf_counter() < end:
            t0 = time.perf_counter_ns()
            asyncore.loop(timeout=1, use_poll=use_poll, map=chan_map, count=1)
            samples.append(time.perf_counter_ns() - t0)
        samples.sort()
        median = samples[len(samples) // 2] / 1000
        k = max(10, int(len(samples)))
        t0 = time.perf_counter_ns()
        asyncore.loop(timeout=1, use_poll=use_poll, map=chan_map, count=k)
        in_loop = (time.perf_counter_ns() - t0) / k / 1000
    except (ValueError, OSError) as e:
        print(json.dumps({'ok': False, 'error': f'{type(e).__name__}: {e}',
                          'max_fd': max(chan_map)}))
        return
    print(json.dumps({'ok': True, 'pass_us_median': median, 'in_loop_us': in_loop,
                      'passes': len(samples), 'max_fd': max(chan_map)}))


if __name__ == '__main__':
    main(sys.argv[1:])
