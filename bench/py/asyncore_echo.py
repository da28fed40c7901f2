"""Python 3.11 asyncore echo server: the example from the asyncore docs.

    python3 -W ignore asyncore_echo.py --backend select|poll (--tcp PORT | --unix PATH)

An asyncore.dispatcher accepts; each connection gets a dispatcher_with_send
that echoes what it reads.  PORT 0 binds an ephemeral port.  Prints
"ready <port|path>" once listening.  The backlog is 1024 rather than the docs'
5, for every server in bench/, so that 1,000 clients connecting at once are
not throttled by SYN retransmits.
"""
import asyncore
import os
import socket
import sys


class EchoHandler(asyncore.dispatcher_with_send):
    def handle_read(self):
        data = self.recv(8192)
        if data:
            self.send(data)


class EchoServer(asyncore.dispatcher):
    def __init__(self, family, addr):
        asyncore.dispatcher.__init__(self)
        self.create_socket(family, socket.SOCK_STREAM)
        if family == socket.AF_INET:
            self.set_reuse_addr()
        self.bind(addr)
        self.listen(1024)

    def handle_accepted(self, sock, addr):
        EchoHandler(sock)


def main(argv):
    backend = argv[argv.index('--backend') + 1] if '--backend' in argv else 'select'
    if '--unix' in argv:
        path = argv[argv.index('--unix') + 1]
        if os.path.exists(path):
            os.unlink(path)
        EchoServer(socket.AF_UNIX, path)
        label = path
    else:
        port = int(argv[argv.index('--tcp') + 1])
        server = EchoServer(socket.AF_INET, ('127.0.0.1', port))
        label = str(server.socket.getsockname()[1])
    print('ready', label, flush=True)
    asyncore.loop(timeout=30, use_poll=(backend == 'poll'))


if __name__ == '__main__':
    main(sys.argv[1:])
