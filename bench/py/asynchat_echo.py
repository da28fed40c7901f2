"""Python 3.11 asynchat line echo server.

    python3 -W ignore asynchat_echo.py [--backend select|poll] (--tcp PORT | --unix PATH)

Each connection is an async_chat with terminator b'\\n' that pushes every
line back with its newline.  Prints "ready <port|path>" once listening.
"""
import asynchat
import asyncore
import os
import socket
import sys


class LineEcho(asynchat.async_chat):
    def __init__(self, sock):
        asynchat.async_chat.__init__(self, sock)
        self.set_terminator(b'\n')
        self.buf = []

    def collect_incoming_data(self, data):
        self.buf.append(data)

    def found_terminator(self):
        line = b''.join(self.buf)
        self.buf = []
        self.push(line + b'\n')


class Server(asyncore.dispatcher):
    def __init__(self, family, addr):
        asyncore.dispatcher.__init__(self)
        self.create_socket(family, socket.SOCK_STREAM)
        if family == socket.AF_INET:
            self.set_reuse_addr()
        self.bind(addr)
        self.listen(1024)

    def handle_accepted(self, sock, addr):
        LineEcho(sock)


def main(argv):
    backend = argv[argv.index('--backend') + 1] if '--backend' in argv else 'select'
    if '--unix' in argv:
        path = argv[argv.index('--unix') + 1]
        if os.path.exists(path):
            os.unlink(path)
        Server(socket.AF_UNIX, path)
        label = path
    else:
        port = int(argv[argv.index('--tcp') + 1])
        server = Server(socket.AF_INET, ('127.0.0.1', port))
        label = str(server.socket.getsockname()[1])
    print('ready', label, flush=True)
    asyncore.loop(timeout=30, use_poll=(backend == 'poll'))


if __name__ == '__main__':
    main(sys.argv[1:])
