# Python 3.11's side of bench/socketserver.mjs: socketserver's
# ThreadingTCPServer or ForkingTCPServer with a StreamRequestHandler that
# writes back each line it reads, until the client closes.
#
#   python3 socketserver_echo.py --mixin threading|forking --tcp PORT
#
# PORT 0 binds an ephemeral port. Prints "ready <port>" once listening.
# Backlog 1024, as every server in bench/.
import socketserver
import sys


class Echo(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            self.wfile.write(line)


def main():
    argv = sys.argv[1:]
    mixin = argv[argv.index("--mixin") + 1] if "--mixin" in argv else "threading"
    port = int(argv[argv.index("--tcp") + 1])
    base = socketserver.ForkingTCPServer if mixin == "forking" else socketserver.ThreadingTCPServer

    class Server(base):
        request_queue_size = 1024
        allow_reuse_address = True

    server = Server(("127.0.0.1", port), Echo)
    print("ready %d" % server.server_address[1], flush=True)
    server.serve_forever()


main()
