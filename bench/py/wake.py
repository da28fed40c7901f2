"""Scenario 4, Python 3.11 side: wake-up latency of asyncore.

    wake_tools writer ... | python3 -W ignore wake.py --backend select|poll

A file_dispatcher on stdin (a pipe) reads 8-byte CLOCK_MONOTONIC stamps
written by another process; handle_read notes now - stamp for each.  Stamps
written before the loop started are dropped.  Prints the samples as JSON at
end of file.
"""
import asyncore
import json
import sys
import time


class Reader(asyncore.file_dispatcher):
    def __init__(self, fd, ready_ns):
        asyncore.file_dispatcher.__init__(self, fd)
        self.ready_ns = ready_ns
        self.pending = b''
        self.samples = []

    def writable(self):
        return False

    def handle_read(self):
        data = self.recv(4096)
        now = time.monotonic_ns()
        self.pending += data
        whole = len(self.pending) - len(self.pending) % 8
        for off in range(0, whole, 8):
            stamp = int.from_bytes(self.pending[off:off + 8], 'little')
            if stamp >= self.ready_ns:
                self.samples.append((now - stamp) / 1000)
        self.pending = self.pending[whole:]

    def handle_close(self):
        self.close()


def main(argv):
    backend = argv[argv.index('--backend') + 1] if '--backend' in argv else 'select'
    reader = Reader(0, time.monotonic_ns())
    asyncore.loop(timeout=30, use_poll=(backend == 'poll'))
    print(json.dumps({'samples_us': reader.samples}))


if __name__ == '__main__':
    main(sys.argv[1:])
